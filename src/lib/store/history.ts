/**
 * The history of an environment: its revisions and its snapshots in one timeline, brought up to
 * date first (a change made while nothing watched becomes a revision of source `outside`), so the
 * history is right even without a daemon.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stateDir, type Env } from '../paths.js';
import { listSnapshots, readManifest, snapshotEnv, type Manifest } from './manifest.js';
import { ObjectStore } from './objects.js';
import { hasJournal, type Recovery, recoverAll } from './recover.js';
import { envLockFile, tryWithEnvLock } from './restore.js';
import { inspectLock, type LockOwner, type LockState } from '../fs/lock.js';
import {
  latestRevision,
  listRevisions,
  readRevision,
  recordRevision,
  type RevisionChange,
  type RevisionSource,
  type RevisionSummary,
} from './revisions.js';

export interface Synced {
  recovery: Recovery;
  /** The revision just recorded for a change made outside Blast's sight, if any. */
  recorded?: RevisionSummary;
}

/** The latest revision's manifest, when readable (it lets a snapshot skip files still its inodes). */
export function latestManifest(store: ObjectStore, envPath: string): Manifest | undefined {
  const latest = latestRevision(store, envPath);
  if (!latest) return undefined;
  try {
    return readRevision(store, envPath, latest.n).manifest;
  } catch {
    return undefined;
  }
}

/**
 * Record the environment's current state as a revision when it differs from the latest one.
 * Nothing is recorded while a pip transaction or a load runs there (they record their own).
 */
export function recordCurrent(
  envPath: string,
  options: {
    env?: Env;
    store?: ObjectStore;
    source: RevisionSource;
    detail?: string;
  },
): Synced {
  const root = resolve(envPath);
  const store = options.store ?? ObjectStore.of(options.env);
  // Removed meanwhile (the daemon's `blast record` may come late): nothing to record, and no
  // directory of Blast's home to create again.
  if (!existsSync(join(root, 'pyvenv.cfg')) || !existsSync(stateDir(options.env)))
    return { recovery: { outcome: 'none', steps: 0 } };
  // A pip transaction or a load of another process's holds the environment: they record their
  // own revision (and may take minutes), so nothing is recorded now and nothing waited for. Seen
  // on the lock before recovery, which would otherwise wait for them.
  const owner = selfRecording(inspectLock(envLockFile(root, options.env)));
  if (owner) return { recovery: { outcome: 'none', steps: 0, busy: busyLine(owner, root) } };
  const recovery = recoverAll(root, { env: options.env, store });
  // Half-restored (its journal gone): that state is no revision anyone should go back to.
  if (recovery.busy || recovery.halfRestored) return { recovery };
  // Under the env lock: a restore (blast load, a rollback) is never recorded half done.
  const got = tryWithEnvLock(
    root,
    options.env,
    () => {
      const manifest = snapshotEnv(root, { env: options.env, store, previous: latestManifest(store, root) });
      // A pip transaction that began meanwhile may have changed files under the snapshot: it
      // records its own states, so this one is not kept.
      if (hasJournal(root, options.env)) return undefined;
      return recordRevision(store, root, manifest, { source: options.source, detail: options.detail });
    },
    {
      what: 'recording a revision',
      // One that began since the look above.
      yieldTo: (owner) => selfRecording({ owner, alive: true, ageMs: 0 }) !== undefined,
    },
  );
  if ('owner' in got) return { recovery: { ...recovery, busy: busyLine(got.owner, root) } };
  return got.value ? { recovery, recorded: got.value } : { recovery };
}

/** The holder of the environment's lock when it is a live pip transaction or load. */
function selfRecording(state: LockState | undefined): LockOwner | undefined {
  if (!state?.alive || !state.owner) return undefined;
  const { owner } = state;
  return owner.pid !== process.pid && (owner.kind === 'pip' || owner.kind === 'load') ? owner : undefined;
}

function busyLine(owner: LockOwner, root: string): string {
  return `pid ${owner.pid} (${owner.what}) is changing ${root} and records its own revision.`;
}

export type TimelineEntry =
  | {
      kind: 'revision';
      n: number;
      time: string;
      source: RevisionSource;
      detail?: string;
      change: RevisionChange;
      distributions: number;
      current: boolean;
    }
  | {
      kind: 'snapshot';
      name: string;
      time: string;
      distributions: number;
      file: string;
      /** Why the snapshot cannot be read, when it cannot. */
      error?: string;
    };

/** Revisions and snapshots, oldest first. */
export function timeline(store: ObjectStore, envPath: string): TimelineEntry[] {
  const revisions = listRevisions(store, envPath);
  const entries: TimelineEntry[] = revisions.map((r, i) => ({
    kind: 'revision',
    n: r.n,
    time: r.createdAt,
    source: r.source,
    ...(r.detail !== undefined ? { detail: r.detail } : {}),
    change: r.change,
    distributions: r.distributions.length,
    current: i === revisions.length - 1,
  }));
  for (const s of listSnapshots(store, envPath)) {
    try {
      const m = readManifest(s.file);
      entries.push({
        kind: 'snapshot',
        name: s.name,
        time: m.createdAt,
        distributions: m.distributions.length,
        file: s.file,
      });
    } catch (error) {
      entries.push({
        kind: 'snapshot',
        name: s.name,
        time: s.mtime.toISOString(),
        distributions: 0,
        file: s.file,
        error: (error as Error).message,
      });
    }
  }
  // Stable: a snapshot taken in the same millisecond as a revision comes after it.
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.time < b.e.time ? -1 : a.e.time > b.e.time ? 1 : a.i - b.i))
    .map(({ e }) => e);
}
