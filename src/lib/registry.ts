/**
 * The registry: which environments exist, named or project-local.
 *
 * nedb keeps a whole copy of its file in memory and is not safe for two processes on one file
 * (nedb#479), so every access takes a proper-lockfile lock, loads the file fresh, and a write
 * ends with a compaction, which nedb does as write-temp, fsync, rename: a crash leaves the old
 * file or the new one, never a torn one. CLI processes are short; holding the lock for one
 * operation costs a millisecond or two.
 */
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvInfo } from './hooks.js';
import { BlastError, ExitCode, messageOf } from './errors.js';
import { type Env, stateDir } from './paths.js';

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

const LOCK_OPTIONS = {
  realpath: false,
  // Another CLI holds it for milliseconds; wait up to ~10 s before calling it a problem.
  retries: { retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
  // A lock not refreshed for 10 s belongs to a dead process and may be taken over.
  stale: 10_000,
} as const;

function strip(doc: Doc): EnvRecord {
  const { _id: _ignored, ...record } = doc;
  return record;
}

/** Run `fn` with the registry loaded under the lock. */
export async function withRegistry<T>(env: Env, fn: (tx: RegistryTx) => Promise<T>): Promise<T> {
  const file = registryFile(env);
  await mkdir(stateDir(env), { recursive: true, mode: 0o700 });
  // Loaded lazily: `blast start` of an existing environment never needs the registry.
  const [{ default: lockfile }, { default: Datastore }] = await Promise.all([
    import('proper-lockfile'),
    import('nedb-promises'),
  ]);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, { ...LOCK_OPTIONS, lockfilePath: `${file}.lock` });
  } catch (error) {
    throw new BlastError(
      `The registry is locked by another Blast process (${messageOf(error)}).`,
      ExitCode.failure,
      `If no other blast runs, \`blast clean\` removes the stale lock ${file}.lock.`,
    );
  }
  try {
    const db = Datastore.create({ filename: file, autoload: false, corruptAlertThreshold: 0 });
    try {
      await db.load();
    } catch (error) {
      throw new BlastError(
        `The registry ${file} is damaged: ${messageOf(error)}.`,
        ExitCode.failure,
        'Run `blast check --fix` to set it aside and rebuild it from the environments on disk.',
      );
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
      await (
        db as unknown as { __original: { compactDatafileAsync(): Promise<void> } }
      ).__original.compactDatafileAsync();
    return result;
  } finally {
    await release();
  }
}

/** Move a damaged registry aside (kept for inspection) so a fresh one can be built. */
export async function setAsideRegistry(env: Env): Promise<string> {
  const file = registryFile(env);
  const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(file, aside);
  return aside;
}
