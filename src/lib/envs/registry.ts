/**
 * The registry: which environments exist, named or project-local.
 *
 * nedb keeps a whole copy of its file in memory and is not safe for two processes on one file
 * (nedb#479), so every access takes the registry lock (lib/fs/lock.ts), loads the file fresh, and a write
 * ends with a compaction, which nedb does as write-temp, fsync, rename: a crash leaves the old
 * file or the new one, never a torn one. CLI processes are short; holding the lock for one
 * operation costs a millisecond or two.
 */
import { linkSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Nedb from 'nedb-promises';
import type { EnvInfo } from '../plugin-host/contract.js';
import { BlastError, diskFullError, ExitCode, messageOf } from '../cli/errors.js';
import {
  breakDeadLock,
  inspectLock,
  type LockOwner,
  lockedError,
  tryLockFree,
  withLockAsync,
} from '../fs/lock.js';
import { isDiskFull } from '../fs/disk-full.js';
import { type Env, stateDir } from '../paths.js';
import { byText } from '../text-order.js';

/** Alphabetical, case aside (as people read a list), then exact: stable on every machine. */
const byName = (a: { name: string }, b: { name: string }) =>
  byText(a.name.toLowerCase(), b.name.toLowerCase()) || byText(a.name, b.name);

/**
 * nedb-promises is CommonJS: required, not `import()`ed, which would run it through the ESM
 * loader's CommonJS translation (~5 ms more on every registry write, i.e. every new environment),
 * and only when called: `blast start` of an existing environment never needs the registry.
 */
const require = createRequire(import.meta.url);
const nedb = () => require('nedb-promises') as typeof Nedb;

/** What the registry keeps: settings live in the environment's blast.json (see env-config). */
export interface EnvRecord extends Omit<EnvInfo, 'settings'> {
  createdAt: string;
}

interface Doc extends EnvRecord {
  _id?: string;
}

/** The registry's operations, valid only inside `withRegistry`. */
export interface RegistryTx {
  all(): Promise<EnvRecord[]>;
  byPath(path: string): Promise<EnvRecord | undefined>;
  byName(name: string): Promise<EnvRecord[]>;
  /** Insert or replace the record for `record.path`. */
  put(record: EnvRecord): Promise<void>;
  remove(path: string): Promise<boolean>;
}

export function registryFile(env: Env): string {
  return join(stateDir(env), 'registry.db');
}

/** The registry's lock (lib/fs/lock.ts): a file naming its owner, next to the registry. */
export function registryLockFile(env: Env): string {
  return `${registryFile(env)}.lock`;
}

/** Another CLI holds it for milliseconds: waited for this long before calling it a problem. */
const LOCK_WAIT_MS = 20_000;

function lockOptions(env: Env) {
  return {
    what: 'reading or writing the registry',
    guards: 'the registry',
    waitMs: LOCK_WAIT_MS,
    // Async sections of one process (listing while checking) must not share nedb either.
    reentrant: false,
    busy: (owner: LockOwner) => lockedError(registryLockFile(env), owner, 'The registry'),
  };
}

/** A registry lock left by a process that is gone (its owner, when the file names one; its age). */
export interface StaleLock {
  pid?: number;
  ageMs: number;
}

/** The registry lock, when its owner is gone; undefined when it is free or held by a live process. */
export function staleRegistryLock(env: Env): StaleLock | undefined {
  const state = inspectLock(registryLockFile(env));
  if (!state || state.alive) return undefined;
  return { ...(state.owner ? { pid: state.owner.pid } : {}), ageMs: state.ageMs };
}

/**
 * Take over a dead owner's registry lock: it is gone afterwards. Done under the lock primitive's
 * claim on that very lock, so a lock a live process took meanwhile is left alone. Returns false
 * when that happened (or there was none).
 */
export async function breakStaleLock(env: Env): Promise<boolean> {
  return breakDeadLock(registryLockFile(env));
}

export interface QuietRead {
  records: EnvRecord[];
  /** The registry lock, when a process that is gone left it. */
  staleLock?: StaleLock;
}

/**
 * The records, changing nothing (for planning `blast clean`, which `--dry-run` stops after): under
 * the lock but read without nedb, whose load rewrites the file; a dead owner's lock is not taken
 * over (that removes it) but reported, and the registry read without it, as its dead holder writes
 * nothing. A live holder is waited for, as withRegistry does.
 */
export async function readRegistryQuietly(env: Env): Promise<QuietRead> {
  if (!(await stat(stateDir(env)).catch(() => undefined))) return { records: [] };
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const stale = staleRegistryLock(env);
    if (stale) return { records: await peekRegistry(env), staleLock: stale };
    let held;
    try {
      held = tryLockFree(registryLockFile(env), 'reading the registry');
    } catch (error) {
      // No room even for the lock (a full disk): a read-only peek needs none, and nedb replaces
      // the file by rename, so the peek sees the old file or the new one.
      if (isDiskFull(error)) return { records: await peekRegistry(env) };
      throw error;
    }
    if (held) {
      try {
        return { records: await peekRegistry(env) };
      } finally {
        held.release();
      }
    }
    const owner = inspectLock(registryLockFile(env))?.owner;
    if (Date.now() > deadline && owner) throw lockedError(registryLockFile(env), owner, 'The registry');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The registry's content cannot be parsed: what `blast check --fix` sets aside and rebuilds. */
export class RegistryDamagedError extends BlastError {}

function damaged(file: string, error: unknown): BlastError {
  return new RegistryDamagedError(
    `The registry ${file} is damaged: ${messageOf(error)}.`,
    ExitCode.failure,
    'Run `blast check --fix` to set it aside and rebuild it from the environments on disk.',
  );
}

/**
 * A read or write of the registry that failed in the file system (a full disk, permissions, I/O):
 * the registry's content is not damaged, so nothing offers to set it aside.
 */
function unreadable(file: string, error: unknown): BlastError {
  return (
    diskFullError(error, { what: 'the registry', path: file }) ??
    new BlastError(`The registry ${file} cannot be read or written: ${messageOf(error)}.`)
  );
}

/** An errno error (ENOSPC, EACCES, EIO…) rather than bad content. */
function fileSystemError(error: unknown): boolean {
  return typeof (error as { code?: unknown } | null)?.code === 'string' || isDiskFull(error);
}

/**
 * The registry's records read without writing anything, for readRegistryQuietly. Reads nedb's
 * format: one JSON document a line, a later line for an _id replacing an earlier one,
 * `$$deleted` removing it, lines without an _id describing indexes.
 */
async function peekRegistry(env: Env): Promise<EnvRecord[]> {
  const file = registryFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw unreadable(file, error);
  }
  const byId = new Map<string, Doc>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    let doc: Doc & { $$deleted?: boolean };
    try {
      doc = JSON.parse(line) as Doc & { $$deleted?: boolean };
    } catch {
      throw damaged(file, `line ${i + 1} is not JSON`);
    }
    if (typeof doc._id !== 'string') continue; // index records
    if (doc.$$deleted === true) byId.delete(doc._id);
    else byId.set(doc._id, doc);
  }
  return [...byId.values()].map(strip).sort(byName);
}

/**
 * Whether the registry lists `path`, read without the lock or nedb (a fraction of a millisecond,
 * for `blast start`): undefined when that cannot be told (a write in progress, a damaged file).
 */
export async function listsPath(env: Env, path: string): Promise<boolean | undefined> {
  try {
    return (await peekRegistry(env)).some((r) => r.path === path);
  } catch {
    return undefined;
  }
}

function strip(doc: Doc): EnvRecord {
  const { _id: _ignored, ...record } = doc;
  return record;
}

/** Run `fn` with the registry loaded under the lock. */
export async function withRegistry<T>(env: Env, fn: (tx: RegistryTx) => Promise<T>): Promise<T> {
  const file = registryFile(env);
  await mkdir(stateDir(env), { recursive: true, mode: 0o700 });
  const Datastore = nedb();
  return withLockAsync(
    registryLockFile(env),
    async () => {
      const db = Datastore.create({ filename: file, autoload: false, corruptAlertThreshold: 0 });
      try {
        // nedb's load also rewrites the file (compaction): on a full disk that fails, and the
        // registry is not damaged for it.
        await db.load();
      } catch (error) {
        throw fileSystemError(error) ? await failedWrite(file, error) : damaged(file, error);
      }
      let dirty = false;
      const tx: RegistryTx = {
        all: async () => ((await db.find({})) as Doc[]).map(strip).sort(byName),
        byPath: async (path) => {
          const doc = (await db.findOne({ path })) as Doc | null;
          return doc ? strip(doc) : undefined;
        },
        byName: async (name) => ((await db.find({ name })) as Doc[]).map(strip),
        put: async (record) => {
          // Settings live in the environment's blast.json; an EnvInfo passed whole keeps them out.
          const { settings: _settings, ...kept } = record as EnvRecord & { settings?: unknown };
          await db.update({ path: record.path }, kept, { upsert: true });
          dirty = true;
        },
        remove: async (path) => {
          const removed = await db.remove({ path }, { multi: true });
          dirty ||= removed > 0;
          return removed > 0;
        },
      };
      const result = await fn(tx);
      if (dirty)
        await (db as unknown as { __original: { compactDatafileAsync(): Promise<void> } }).__original
          .compactDatafileAsync()
          .catch(async (error: unknown) => {
            throw await failedWrite(file, error);
          });
      return result;
    },
    lockOptions(env),
  );
}

/**
 * A failed rewrite leaves the old registry whole (nedb writes `registry.db~`, then renames it over);
 * the half-written `~` is removed (the lock is held) so it does not keep the room a full disk lacks.
 */
async function failedWrite(file: string, error: unknown): Promise<BlastError> {
  if (await stat(file).catch(() => undefined)) await rm(`${file}~`, { force: true });
  return unreadable(file, error);
}

/** Move a damaged registry aside (kept for inspection) so a fresh one can be built. */
export async function setAsideRegistry(env: Env): Promise<string> {
  const file = registryFile(env);
  // A name no earlier damaged copy has: link() never replaces one (two in one millisecond).
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let i = 1; ; i++) {
    const aside = `${file}.damaged-${stamp}${i > 1 ? `-${i}` : ''}`;
    try {
      linkSync(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    unlinkSync(file);
    return aside;
  }
}
