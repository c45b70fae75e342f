/**
 * Recovery of everything a kill -9 may leave half done in one environment: a restore (`blast
 * load`, a transaction's rollback) and a pip transaction. Every command that changes or reads the
 * history of an environment calls `recoverEnv` first; `blast start` and `blast check --fix` call
 * `recoverAll`. Cheap when there is nothing to recover: two stat calls.
 */
import { readdirSync, readFileSync, renameSync, rmdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import type { Env } from '../paths.js';
import { listSnapshots, type Manifest, readManifest, snapshotEnv } from './manifest.js';
import { ObjectStore } from './objects.js';
import {
  endTransaction,
  markedProcess,
  readTransactionBefore,
  readTransactionJournal,
  type TransactionBefore,
  transactionJournalPath,
  releaseReserve,
  transactionRunsError,
  transactionState,
  type TransactionJournal,
} from '../transaction/journal.js';
import {
  journalPath,
  readRestoreJournal,
  recoverRestore,
  removeKnownExtras,
  restoreEnv,
  restoreUnlocked,
  type RestoringMarker,
  withEnvLock,
} from './restore.js';
import {
  fingerprintOf,
  latestRevision,
  listRevisions,
  readRevision,
  recordRevision,
  REVISION_SOURCES,
  type RevisionSource,
} from './revisions.js';
import { removeStrays } from './strays.js';
import { hasJournal, looksHalfRestored, restoringMarkerPath } from './journal-files.js';
import { pausePoint } from './crash.js';

export interface Recovery {
  /** What an interrupted restore was brought to: finished, undone, or nothing to do. */
  outcome: 'none' | 'finished' | 'undone';
  steps: number;
  /** What an interrupted pip transaction was brought to, when there was one. */
  transaction?: 'finished' | 'undone';
  /** Set (by recoverAll only) when a pip transaction still runs, so nothing was touched. */
  busy?: string;
  /** Set (by recoverAll only) when the environment is half-restored and no journal can finish it. */
  halfRestored?: string;
}

export interface RecoverOptions {
  env?: Env;
  store?: ObjectStore;
  /** The caller is about to restore the whole environment (`blast load`): a half-restored one is fine. */
  allowHalfRestored?: boolean;
}

/**
 * A restore whose journal is gone (a kill -9, then the state dir or the journal deleted): the
 * marker it left in the environment, read under the environment's lock (a restore running now
 * holds it, and has its journal), or undefined when there is none.
 */
export function halfRestored(envPath: string, env?: Env): RestoringMarker | undefined {
  const root = resolve(envPath);
  if (!looksHalfRestored(root, env)) return undefined;
  return withEnvLock(root, env, () => {
    if (!looksHalfRestored(root, env)) return undefined;
    let marker: Partial<RestoringMarker> = {};
    try {
      marker = JSON.parse(readFileSync(restoringMarkerPath(root), 'utf8')) as RestoringMarker;
    } catch {
      // torn or unreadable: still half-restored, to an unknown state
    }
    return {
      v: 1,
      env: root,
      target: typeof marker.target === 'string' ? marker.target : '',
      distributions: Array.isArray(marker.distributions) ? marker.distributions.map(String) : [],
      startedAt: typeof marker.startedAt === 'string' ? marker.startedAt : '',
    };
  });
}

/** Remove the empty directories below `dir` (deepest first), never `dir` itself. */
function pruneEmptyUnder(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = join(dir, e.name);
    pruneEmptyUnder(sub);
    try {
      rmdirSync(sub); // only when empty
    } catch {
      // not empty
    }
  }
}

/** What is wrong with a half-restored environment, in words. */
export function halfRestoredMessage(root: string, marker: RestoringMarker): string {
  const to = marker.distributions.length
    ? ` (to ${marker.distributions.slice(0, 3).join(', ')}${marker.distributions.length > 3 ? ', …' : ''})`
    : '';
  return (
    `${root} was being restored${to}${marker.startedAt ? ` at ${marker.startedAt}` : ''} when Blast was killed, ` +
    `and the journal that would finish it is gone: its packages may be half the old state and half the new`
  );
}

export function halfRestoredError(root: string, marker: RestoringMarker): BlastError {
  return new BlastError(
    `${halfRestoredMessage(root, marker)}.`,
    ExitCode.failure,
    'Run `blast check --fix` to restore it to that state again (or `blast load` a snapshot or --revision).',
  );
}

/**
 * Repair a half-restored environment: restore it again to what the marker says (the revision or
 * snapshot with that fingerprint), else to its latest revision, and record the result.
 */
export function repairHalfRestored(envPath: string, options: RecoverOptions = {}): string {
  const root = resolve(envPath);
  const marker = halfRestored(root, options.env);
  if (!marker) return 'nothing to repair';
  const store = options.store ?? ObjectStore.of(options.env);
  const revisions = listRevisions(store, root);
  const byRevision = revisions.find((r) => r.fingerprint === marker.target);
  let manifest: Manifest | undefined;
  let what = '';
  if (marker.target && byRevision) {
    manifest = readRevision(store, root, byRevision.n).manifest;
    what = `revision ${byRevision.n}`;
  }
  if (!manifest && marker.target)
    for (const s of listSnapshots(store, root)) {
      try {
        const m = readManifest(s.file);
        if (fingerprintOf(m) === marker.target) {
          manifest = m;
          what = `snapshot ${s.name}`;
          break;
        }
      } catch {
        // a corrupt snapshot is not the one
      }
    }
  if (!manifest && revisions.length > 0) {
    manifest = readRevision(store, root, revisions.at(-1)!.n).manifest;
    what = `revision ${revisions.at(-1)!.n}, the latest (the restore's own target is in no revision or snapshot)`;
  }
  if (!manifest)
    throw new BlastError(
      `${halfRestoredMessage(root, marker)}, and it has no revision or snapshot to restore.`,
      ExitCode.failure,
      'Recreate it (blast clean NAME --yes, then blast start NAME) and reinstall its packages.',
    );
  restoreEnv(root, manifest, { env: options.env, store });
  // The killed restore may have emptied directories (a removed version's dist-info) before it
  // could prune them; no RECORD lists them any more, so the restore above does not.
  pruneEmptyUnder(join(root, manifest.sitePackages));
  recordRevision(
    store,
    root,
    { ...manifest, createdAt: new Date().toISOString() },
    {
      source: 'load',
      detail: `repair: ${what.split(',')[0]}`,
    },
  );
  return `restored ${what}`;
}

export { hasJournal };

/**
 * Finish or undo whatever a killed Blast left half done in the environment. Throws (clearly) when
 * a pip transaction still runs there: Blast's own process, or pip it started before being killed.
 */
export function recoverEnv(envPath: string, options: RecoverOptions = {}): Recovery {
  const root = resolve(envPath);
  const recovery = recoverJournals(root, options);
  // Nothing may trust (snapshot, record, install into) an environment no journal can finish.
  if (!options.allowHalfRestored) {
    const marker = halfRestored(root, options.env);
    if (marker) throw halfRestoredError(root, marker);
  }
  return recovery;
}

function recoverJournals(root: string, options: RecoverOptions): Recovery {
  if (!hasJournal(root, options.env)) return { outcome: 'none', steps: 0 };
  const tx = transactionState(root, options.env);
  if (tx.state === 'running') throw transactionRunsError(root, tx);
  // The room a killed transaction held for its rollback is what this recovery needs, from the
  // lock file on. Safe before the lock: no other transaction starts while this one's journal is there.
  if (tx.state === 'interrupted') releaseReserve(root, options.env);
  const store = options.store ?? ObjectStore.of(options.env);
  pausePoint('recover-locking');
  return withEnvLock(root, options.env, () => {
    const recovery: Recovery = recoverRestore(root, { env: options.env, store });
    // Read again under the lock: another command may have finished this very recovery while this
    // one waited for the lock (its journal and state before are gone then).
    const now = tx.state === 'interrupted' ? transactionState(root, options.env) : tx;
    if (now.state === 'interrupted')
      recovery.transaction = recoverTransaction(root, now.journal, store, options.env);
    return recovery;
  });
}

/**
 * For `blast start` and `blast check --fix`: as recoverEnv, but a running transaction and a
 * half-restored environment are reported, not thrown.
 */
export function recoverAll(envPath: string, options: RecoverOptions = {}): Recovery {
  const root = resolve(envPath);
  const half = () => {
    const marker = halfRestored(root, options.env);
    return marker ? { halfRestored: halfRestoredMessage(root, marker) } : {};
  };
  if (!hasJournal(root, options.env)) return { outcome: 'none', steps: 0, ...half() };
  const tx = transactionState(root, options.env);
  if (tx.state === 'running')
    return { outcome: 'none', steps: 0, busy: transactionRunsError(root, tx).message };
  return { ...recoverJournals(root, options), ...half() };
}

/** The revision a committed transaction is recorded as (older journals: always pip's). */
export function recordOf(journal: TransactionJournal): { source: RevisionSource; detail: string } {
  const r = journal.record;
  return r && REVISION_SOURCES.includes(r.source) && typeof r.detail === 'string'
    ? { source: r.source, detail: r.detail }
    : { source: 'pip', detail: journal.args.join(' ') };
}

/** Past the commit point: record the after state. Before it: put the before state back. */
function recoverTransaction(
  root: string,
  journal: TransactionJournal,
  store: ObjectStore,
  env: Env | undefined,
): 'finished' | 'undone' {
  if (journal.phase === 'preparing') {
    // Killed while writing the state before: pip never ran, nothing changed.
    endTransaction(root, env ?? process.env);
    return 'undone';
  }
  const before = readTransactionBefore(root, env);
  if (journal.phase === 'committing') {
    const after = snapshotEnv(root, { env, store, previous: before.manifest });
    recordRevision(store, root, after, recordOf(journal));
    endTransaction(root, env ?? process.env);
    return 'finished';
  }
  restoreUnlocked(root, before.manifest, { env, store });
  removeStrays(root, before.watched, new Set(before.paths));
  endTransaction(root, env ?? process.env);
  return 'undone';
}

/** The messages of the environment's journals that cannot be read (none: both readable or absent). */
function unreadableJournals(root: string, env: Env | undefined): string[] {
  const problems: string[] = [];
  for (const read of [() => readRestoreJournal(root, env), () => readTransactionJournal(root, env)]) {
    try {
      read();
    } catch (error) {
      problems.push(messageOf(error));
    }
  }
  return problems;
}

/** Every snapshot and revision of the environment that can be read. */
function knownStates(store: ObjectStore, root: string): Manifest[] {
  const out: Manifest[] = [];
  const read = (fn: () => Manifest) => {
    try {
      out.push(fn());
    } catch {
      // unreadable: not known
    }
  };
  for (const s of listSnapshots(store, root)) read(() => readManifest(s.file));
  for (const r of listRevisions(store, root)) read(() => readRevision(store, root, r.n).manifest);
  return out;
}

/** Rename an unreadable journal to `<name>.corrupt` (kept for inspection; no longer a journal). */
function setAside(file: string, done: string[]): void {
  renameSync(file, `${file}.corrupt`);
  done.push(`set the unreadable ${basename(file)} aside as ${basename(file)}.corrupt`);
}

/**
 * `blast check --fix` for an environment whose journal cannot be read, so that recovery cannot
 * tell which steps were taken. It puts back a state it knows: a pip transaction's state before
 * pip (transaction.before.json, written durably before pip ran), else the latest revision; with
 * neither, the environment stays as it is. Each unreadable journal is set aside (`*.corrupt`) for
 * inspection. Returns what was done, in words. Refuses while pip of the transaction still runs.
 */
export function salvageEnv(envPath: string, options: RecoverOptions = {}): string[] {
  const root = resolve(envPath);
  const { env } = options;
  const store = options.store ?? ObjectStore.of(env);
  return withEnvLock(root, env, () => {
    const done: string[] = [];
    let restoreCorrupt = false;
    try {
      readRestoreJournal(root, env);
    } catch {
      restoreCorrupt = true;
    }
    let journal: TransactionJournal | undefined;
    let txCorrupt = false;
    try {
      journal = readTransactionJournal(root, env);
    } catch {
      txCorrupt = true;
    }
    if (!restoreCorrupt && !txCorrupt) {
      // Readable after all (a concurrent command finished it): ordinary recovery.
      recoverRestore(root, { env, store });
      if (journal) recoverTransaction(root, journal, store, env);
      return ['recovered the interrupted change'];
    }
    if (journal) {
      // Only the restore (the transaction's rollback) is unreadable: the transaction's own journal
      // says what to do, and undoing it plans the whole way back from its before state.
      const tx = transactionState(root, env);
      if (tx.state === 'running') throw transactionRunsError(root, tx);
      setAside(journalPath(root, env), done);
      const outcome = recoverTransaction(root, journal, store, env);
      // A load is a transaction too (its restore is the part whose journal is unreadable).
      const record = recordOf(journal);
      const what = record.source === 'pip' ? 'pip transaction' : `${record.source} (${record.detail})`;
      done.push(`${outcome === 'finished' ? 'finished' : 'undid'} the interrupted ${what}`);
      return done;
    }
    let before: TransactionBefore | undefined;
    if (txCorrupt) {
      try {
        before = readTransactionBefore(root, env);
      } catch {
        before = undefined;
      }
    }
    if (before) {
      const pid = markedProcess(before.id);
      if (pid !== undefined)
        throw new BlastError(`pip (pid ${pid}) of the interrupted transaction is still changing ${root}.`);
    }
    if (restoreCorrupt) setAside(journalPath(root, env), done);
    if (txCorrupt) setAside(transactionJournalPath(root, env), done);
    if (before) {
      restoreUnlocked(root, before.manifest, { env, store });
      removeStrays(root, before.watched, new Set(before.paths));
      done.push(
        'put back the state before the interrupted pip transaction (its journal cannot tell whether pip finished)',
      );
    } else {
      const latest = latestRevision(store, root);
      if (latest) {
        const target = readRevision(store, root, latest.n).manifest;
        restoreUnlocked(root, target, { env, store });
        // What the lost restore brought in that the revision lacks: only files that a known state
        // has, with that content, so nothing Blast did not put there goes.
        removeKnownExtras(store, root, target, knownStates(store, root));
        done.push(`put back the latest revision (${latest.n}), the last state Blast knows`);
      } else done.push('found no state to put back (no revision yet): the environment stays as it is');
    }
    endTransaction(root, env ?? process.env);
    return done;
  });
}

/** For `blast check`: what is interrupted in the environment, if anything (undefined: nothing). */
export function interruptedChange(
  envPath: string,
  env?: Env,
): { message: string; running: boolean; unreadable?: boolean; halfRestored?: boolean } | undefined {
  const root = resolve(envPath);
  if (!hasJournal(root, env)) {
    const marker = halfRestored(root, env);
    return marker
      ? { message: halfRestoredMessage(root, marker), running: false, halfRestored: true }
      : undefined;
  }
  const unreadable = unreadableJournals(root, env);
  if (unreadable.length) return { message: unreadable.join(' '), running: false, unreadable: true };
  let tx;
  try {
    tx = transactionState(root, env);
  } catch (error) {
    return { message: (error as Error).message, running: false };
  }
  if (tx.state === 'running') return { message: transactionRunsError(root, tx).message, running: true };
  if (tx.state === 'interrupted')
    return {
      message:
        recordOf(tx.journal).source === 'pip'
          ? `a pip transaction (pip ${tx.journal.args.join(' ')}) was interrupted at ${tx.journal.phase}`
          : `a transaction (${recordOf(tx.journal).source} ${recordOf(tx.journal).detail}) was interrupted at ${tx.journal.phase}`,
      running: false,
    };
  return { message: 'a restore (blast load or a rollback) was interrupted', running: false };
}
