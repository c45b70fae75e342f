/**
 * The registry: which environments exist, named or project-local.
 *
 * nedb keeps a whole copy of its file in memory and is not safe for two processes on one file
 * (nedb#479), so every access takes a proper-lockfile lock, loads the file fresh, and a write
 * ends with a compaction, which nedb does as write-temp, fsync, rename: a crash leaves the old
 * file or the new one, never a torn one. CLI processes are short; holding the lock for one
 * operation costs a millisecond or two.
 */
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Nedb from 'nedb-promises';
import type * as ProperLockfile from 'proper-lockfile';
import type { EnvInfo } from './hooks.js';
import { isDiskFull } from './disk-full.js';
import { BlastError, diskFullError, ExitCode, messageOf } from './errors.js';
import { type Env, stateDir } from './paths.js';

/**
 * proper-lockfile and nedb-promises are CommonJS: required, not `import()`ed, which would run
 * them through the ESM loader's CommonJS translation (~5 ms more on every registry write, i.e.
 * every new environment), and only when called: `blast start` of an existing environment never
 * needs the registry.
 */
const require = createRequire(import.meta.url);
const properLockfile = () => require('proper-lockfile') as typeof ProperLockfile;
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

/** The lock directory proper-lockfile makes next to the registry. */
export function registryLockFile(env: Env): string {
  return `${registryFile(env)}.lock`;
}

/**
 * A holder refreshes the lock's mtime every LOCK_STALE_MS / 2; a lock untouched this long
 * belongs to a dead process, and the next registry access takes it over (proper-lockfile's
 * `stale`). `blast clean` calls a lock stale by this same rule: there is one threshold, not two.
 */
export const LOCK_STALE_MS = 10_000;

const LOCK_OPTIONS = {
  realpath: false,
  // Another CLI holds it for milliseconds; wait up to ~10 s before calling it a problem.
  retries: { retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
  stale: LOCK_STALE_MS,
} as const;

/** How long ago a stale registry lock was last refreshed (ms), or undefined when there is none. */
export async function staleLockAge(env: Env): Promise<number | undefined> {
  const st = await stat(registryLockFile(env)).catch(() => undefined);
  if (!st) return undefined;
  const age = Date.now() - st.mtimeMs;
  return age > LOCK_STALE_MS ? age : undefined;
}

/**
 * Take over a stale registry lock and release it: the lock is gone afterwards. Done through
 * proper-lockfile, which checks staleness again as it takes over, so a lock a live process
 * took or refreshed meanwhile is left alone. Returns false when that happened.
 */
export async function breakStaleLock(env: Env): Promise<boolean> {
  const lockfile = properLockfile();
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(registryFile(env), {
      ...LOCK_OPTIONS,
      retries: 0,
      lockfilePath: registryLockFile(env),
    });
  } catch {
    return false;
  }
  await release();
  return true;
}

export interface QuietRead {
  records: EnvRecord[];
  /** How long ago the registry lock was last refreshed, when it is stale. */
  staleLockAge?: number;
}

/**
 * The records, changing nothing (for planning `blast clean`, which `--dry-run` stops after): under
 * the lock but read without nedb, whose load rewrites the file; a stale lock is not taken over
 * (that removes it) but reported, and the registry read without it, as its dead holder writes
 * nothing. A live holder is waited for, as withRegistry does.
 */
export async function readRegistryQuietly(env: Env): Promise<QuietRead> {
  if (!(await stat(stateDir(env)).catch(() => undefined))) return { records: [] };
  const lockfile = properLockfile();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const age = await staleLockAge(env);
    if (age !== undefined) return { records: await peekRegistry(env), staleLockAge: age };
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(registryFile(env), {
        realpath: false,
        lockfilePath: registryLockFile(env),
        retries: 0,
        // Never take over: staleness is judged above, by LOCK_STALE_MS, without touching the lock.
        stale: Number.MAX_SAFE_INTEGER,
        update: LOCK_STALE_MS / 2,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED')
        throw new BlastError(`Cannot lock the registry ${registryFile(env)}: ${messageOf(error)}.`);
      if (Date.now() > deadline) throw lockedError(env, error);
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      return { records: await peekRegistry(env) };
    } finally {
      await release();
    }
  }
}

function lockedError(env: Env, error: unknown): BlastError {
  // A dead holder's lock is taken over while waiting: this one is being refreshed.
  return new BlastError(
    `The registry is locked by another Blast process (${messageOf(error)}).`,
    ExitCode.failure,
    `A running blast holds ${registryLockFile(env)}; try again when it is done.`,
  );
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
  return [...byId.values()].map(strip).sort((a, b) => a.name.localeCompare(b.name));
}

function strip(doc: Doc): EnvRecord {
  const { _id: _ignored, ...record } = doc;
  return record;
}

/** Run `fn` with the registry loaded under the lock. */
export async function withRegistry<T>(env: Env, fn: (tx: RegistryTx) => Promise<T>): Promise<T> {
  const file = registryFile(env);
  await mkdir(stateDir(env), { recursive: true, mode: 0o700 });
  const lockfile = properLockfile();
  const Datastore = nedb();
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, { ...LOCK_OPTIONS, lockfilePath: registryLockFile(env) });
  } catch (error) {
    throw lockedError(env, error);
  }
  try {
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
      all: async () => ((await db.find({})) as Doc[]).map(strip).sort((a, b) => a.name.localeCompare(b.name)),
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
  } finally {
    await release();
  }
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
  const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(file, aside);
  return aside;
}
