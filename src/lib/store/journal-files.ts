/**
 * Where an environment's journals live, with nothing else loaded: `blast start` asks on every run
 * whether a kill -9 left a change half done, and should not load the store to learn that it did not.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { stateDir, type Env } from '../paths.js';

/** A short, stable name for an environment: 16 hex digits of the SHA-256 of its absolute path (as the daemon's). */
export function envHash(envPath: string): string {
  return createHash('sha256').update(resolve(envPath)).digest('hex').slice(0, 16);
}

/** `<state>/envs/<env-hash>`: the environment's journals, locks and hash cache. */
export function envStateDir(envPath: string, env: Env = process.env): string {
  return join(stateDir(env), 'envs', envHash(envPath));
}

/** The journal of a restore (`blast load`, a transaction's rollback). */
export function journalPath(envPath: string, env: Env = process.env): string {
  return join(envStateDir(envPath, env), 'restore.journal.json');
}

/** The journal of a pip transaction. */
export function transactionJournalPath(envPath: string, env?: Env): string {
  return join(envStateDir(envPath, env), 'transaction.journal.json');
}

/**
 * Inside the environment while a restore changes it (written after the journal, removed before
 * it): what the restore was bringing the environment to. The journal lives in Blast's state dir,
 * which a user may well delete as a cache; the environment is the one thing they keep. A marker
 * without a journal thus says: a restore was killed, its journal is gone, and the environment is
 * half one state and half the other. See recover.ts's halfRestored.
 */
export const RESTORING_MARKER = '.blast-restoring.json';

export function restoringMarkerPath(envPath: string): string {
  return join(resolve(envPath), RESTORING_MARKER);
}

/** Whether the environment looks half-restored (a marker, no journal): two stat calls, for `blast start`. */
export function looksHalfRestored(envPath: string, env?: Env): boolean {
  return !existsSync(journalPath(envPath, env)) && existsSync(restoringMarkerPath(envPath));
}

/** Whether an interrupted (or running) change is journaled for the environment. */
export function hasJournal(envPath: string, env?: Env): boolean {
  return existsSync(journalPath(envPath, env)) || existsSync(transactionJournalPath(envPath, env));
}

/**
 * A journal, or undefined when there is none. One that cannot be parsed, or that `valid` rejects,
 * is a clear error naming it (`what`: "journal", "transaction journal"): recovery must not guess.
 */
export function readJournalFile<T>(
  file: string,
  what: string,
  valid: (journal: T) => boolean,
): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const hint =
    '`blast check --fix` puts the environment back to a state it knows (the state before the change, else the latest revision).';
  let journal: T;
  try {
    journal = JSON.parse(text) as T;
  } catch (error) {
    throw new BlastError(`The ${what} ${file} is corrupt: ${messageOf(error)}.`, ExitCode.failure, hint);
  }
  if (!valid(journal)) throw new BlastError(`The ${what} ${file} is corrupt.`, ExitCode.failure, hint);
  return journal;
}
