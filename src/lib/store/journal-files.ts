/**
 * Where an environment's journals live, with nothing else loaded: `blast start` asks on every run
 * whether a kill -9 left a change half done, and should not load the store to learn that it did not.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

/** Whether an interrupted (or running) change is journaled for the environment. */
export function hasJournal(envPath: string, env?: Env): boolean {
  return existsSync(journalPath(envPath, env)) || existsSync(transactionJournalPath(envPath, env));
}
