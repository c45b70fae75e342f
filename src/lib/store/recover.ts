/**
 * Recovery of everything a kill -9 may leave half done in one environment: a restore (`blast
 * load`, a transaction's rollback) and a pip transaction. Every command that changes or reads the
 * history of an environment calls `recoverEnv` first; `blast start` and `blast check --fix` call
 * `recoverAll`. Cheap when there is nothing to recover: two stat calls.
 */
import { resolve } from 'node:path';
import type { Env } from '../paths.js';
import { snapshotEnv } from './manifest.js';
import { ObjectStore } from './objects.js';
import {
  endTransaction,
  readTransactionBefore,
  releaseReserve,
  transactionRunsError,
  transactionState,
  type TransactionJournal,
} from './pending.js';
import { recoverRestore, restoreUnlocked, withEnvLock } from './restore.js';
import { recordRevision } from './revisions.js';
import { removeStrays } from './strays.js';
import { hasJournal } from './journal-files.js';

export interface Recovery {
  /** What an interrupted restore was brought to: finished, undone, or nothing to do. */
  outcome: 'none' | 'finished' | 'undone';
  steps: number;
  /** What an interrupted pip transaction was brought to, when there was one. */
  transaction?: 'finished' | 'undone';
  /** Set (by recoverAll only) when a pip transaction still runs, so nothing was touched. */
  busy?: string;
}

export interface RecoverOptions {
  env?: Env;
  store?: ObjectStore;
}

export { hasJournal };

/**
 * Finish or undo whatever a killed Blast left half done in the environment. Throws (clearly) when
 * a pip transaction still runs there: Blast's own process, or pip it started before being killed.
 */
export function recoverEnv(envPath: string, options: RecoverOptions = {}): Recovery {
  const root = resolve(envPath);
  if (!hasJournal(root, options.env)) return { outcome: 'none', steps: 0 };
  const tx = transactionState(root, options.env);
  if (tx.state === 'running') throw transactionRunsError(root, tx);
  // The room a killed transaction held for its rollback is what this recovery needs, from the
  // lock file on. Safe before the lock: no other transaction starts while this one's journal is there.
  if (tx.state === 'interrupted') releaseReserve(root, options.env);
  const store = options.store ?? ObjectStore.of(options.env);
  return withEnvLock(root, options.env, () => {
    const recovery: Recovery = recoverRestore(root, { env: options.env, store });
    if (tx.state === 'interrupted')
      recovery.transaction = recoverTransaction(root, tx.journal, store, options.env);
    return recovery;
  });
}

/** For `blast start` and `blast check --fix`: as recoverEnv, but a running transaction is reported, not thrown. */
export function recoverAll(envPath: string, options: RecoverOptions = {}): Recovery {
  const root = resolve(envPath);
  if (!hasJournal(root, options.env)) return { outcome: 'none', steps: 0 };
  const tx = transactionState(root, options.env);
  if (tx.state === 'running')
    return { outcome: 'none', steps: 0, busy: transactionRunsError(root, tx).message };
  return recoverEnv(root, options);
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
    recordRevision(store, root, after, { source: 'pip', detail: journal.args.join(' ') });
    endTransaction(root, env ?? process.env);
    return 'finished';
  }
  restoreUnlocked(root, before.manifest, { env, store });
  removeStrays(root, before.watched, new Set(before.paths));
  endTransaction(root, env ?? process.env);
  return 'undone';
}

/** For `blast check`: what is interrupted in the environment, if anything (undefined: nothing). */
export function interruptedChange(
  envPath: string,
  env?: Env,
): { message: string; running: boolean } | undefined {
  const root = resolve(envPath);
  if (!hasJournal(root, env)) return undefined;
  let tx;
  try {
    tx = transactionState(root, env);
  } catch (error) {
    return { message: (error as Error).message, running: false };
  }
  if (tx.state === 'running') return { message: transactionRunsError(root, tx).message, running: true };
  if (tx.state === 'interrupted')
    return {
      message: `a pip transaction (pip ${tx.journal.args.join(' ')}) was interrupted at ${tx.journal.phase}`,
      running: false,
    };
  return { message: 'a restore (blast load or a rollback) was interrupted', running: false };
}
