/**
 * The journal of a pip transaction, so that one killed with -9 at any step is finished or undone
 * by the next Blast command that touches the environment.
 *
 * In the environment's state dir:
 *   transaction.before.json   the state before pip (manifest) and the path listing of site-packages
 *                             and bin/ (what is a stray afterwards); written once, durably
 *   transaction.journal.json  small, rewritten at each phase: Blast's pid, pip's pid, pip's
 *                             arguments, and how far the transaction got
 *   transaction.reserve       room held while pip runs, freed for the journal and the rollback
 *                             when pip filled the disk
 *
 * Phases: preparing (the journal claims the environment: created exclusively, so two transactions
 * never share it; the before state is being written) → started → pip-running → pip-done → committing (the commit point: pip succeeded and
 * postInstall accepted) → gone; or → rolling-back → gone. An interrupted transaction that reached
 * `committing` is finished (its after state recorded as a revision); any other is undone.
 */
import {
  closeSync,
  existsSync,
  linkSync,
  openSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { BlastError, diskFullError, ExitCode, messageOf } from '../cli/errors.js';
import type { Env } from '../paths.js';
import { crashPoint } from '../store/crash.js';
import { type Manifest, manifestProblem } from '../store/manifest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { envStateDir } from '../store/restore.js';
import { readJournalFile, transactionJournalPath } from '../store/journal-files.js';
import { alive } from '../fs/alive.js';
import type { RevisionSource } from '../store/revisions.js';

export type TransactionPhase =
  'preparing' | 'started' | 'pip-running' | 'pip-done' | 'committing' | 'rolling-back';

export interface TransactionJournal {
  v: 1;
  op: 'pip';
  /** Also in pip's environment as BLAST_TRANSACTION, to find pip when its pid is not known. */
  id: string;
  env: string;
  startedAt: string;
  blastPid: number;
  pipPid?: number;
  pipExitCode?: number;
  args: string[];
  phase: TransactionPhase;
  /**
   * The Blast command that runs the transaction (`pip`, `load`), as its command line has it: how
   * another process tells it still runs. Absent in older journals: `pip`.
   */
  command?: string;
  /** The revision a committed transaction is recorded as; absent in older journals: pip's. */
  record?: { source: RevisionSource; detail: string };
}

export interface TransactionBefore {
  v: 1;
  id: string;
  manifest: Manifest;
  watched: string[];
  paths: string[];
}

export const TRANSACTION_CRASH_STEPS = [
  'transaction-before-temp',
  'transaction-journaled',
  'transaction-pip-running',
  'transaction-pip-done',
  'transaction-committing',
  'transaction-recorded',
  'transaction-rolling-back',
  'transaction-rolled-back',
] as const;

export { transactionJournalPath };

export function transactionBeforePath(envPath: string, env?: Env): string {
  return join(envStateDir(envPath, env), 'transaction.before.json');
}

export function readTransactionJournal(envPath: string, env?: Env): TransactionJournal | undefined {
  return readJournalFile<TransactionJournal>(
    transactionJournalPath(envPath, env),
    'transaction journal',
    (j) => j?.v === 1 && j.op === 'pip' && Number.isInteger(j.blastPid) && typeof j.phase === 'string',
  );
}

export function readTransactionBefore(envPath: string, env?: Env): TransactionBefore {
  const file = transactionBeforePath(envPath, env);
  let parsed: TransactionBefore;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as TransactionBefore;
  } catch (error) {
    throw new BlastError(
      `The state before an interrupted pip transaction (${file}) cannot be read: ${messageOf(error)}.`,
    );
  }
  const problem = manifestProblem(parsed?.manifest);
  if (problem || !Array.isArray(parsed.paths) || !Array.isArray(parsed.watched)) {
    throw new BlastError(`The state before an interrupted pip transaction (${file}) is corrupt.`);
  }
  return parsed;
}

/**
 * Start the journal: created exclusively in phase `preparing` (another transaction's journal there
 * is a clear error), then the before state (durable), then phase `started`.
 */
export function beginTransaction(
  envPath: string,
  env: Env,
  journal: TransactionJournal,
  before: TransactionBefore,
): void {
  const file = transactionJournalPath(envPath, env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify({ ...journal, phase: 'preparing' }) + '\n', { mode: 0o600 });
    linkSync(temp, file); // atomic and exclusive: EEXIST when a journal is there
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw (
        diskFullError(error, {
          path: file,
          hint: 'pip did not run and nothing changed. Free space, then run the pip command again.',
        }) ?? error
      );
    const other = transactionState(envPath, env);
    throw other.state === 'running'
      ? transactionRunsError(envPath, other)
      : new BlastError(`An interrupted pip transaction is journaled in ${envPath}; run the command again.`);
  } finally {
    rmSync(temp, { force: true });
  }
  try {
    writeFileAtomic(transactionBeforePath(envPath, env), JSON.stringify(before), {
      step: 'transaction-before-temp',
    });
    // What a rollback needs room for, held while pip may fill the disk (see reserveSpace).
    reserveSpace(envPath, env);
    setPhase(envPath, env, journal, 'started');
  } catch (error) {
    // pip has not run: nothing to undo, and the journal claiming the environment must not stay.
    endTransaction(envPath, env);
    throw error;
  }
  crashPoint('transaction-journaled');
}

/** Bytes held in reserve during a transaction: room for its journal, the rollback's journal and links. */
export const RESERVE_BYTES = 4 * 1024 * 1024;

export function transactionReservePath(envPath: string, env?: Env): string {
  return join(envStateDir(envPath, env), 'transaction.reserve');
}

/**
 * Hold RESERVE_BYTES of real blocks in the environment's state dir while pip runs. When pip fills
 * the disk, Blast still has to write its journal's next phase and roll back (a restore journal,
 * directory entries for links into the store): `releaseReserve` frees this room for exactly that.
 * Written, not sparse (a sparse file reserves nothing); no fsync is needed, since a file system
 * accounts for blocks when they are written. A disk without this much room is full already.
 */
function reserveSpace(envPath: string, env: Env): void {
  const file = transactionReservePath(envPath, env);
  const chunk = Buffer.alloc(1024 * 1024, 0xa5);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'w', 0o600);
    for (let done = 0; done < RESERVE_BYTES;)
      done += writeSync(fd, chunk, 0, Math.min(chunk.length, RESERVE_BYTES - done));
  } catch (error) {
    rmSync(file, { force: true });
    throw (
      diskFullError(error, {
        what: `the ${RESERVE_BYTES / 1024 / 1024} MiB a rollback needs`,
        path: file,
        hint: 'pip did not run and nothing changed. Free space, then run the pip command again.',
      }) ?? error
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Give the reserve back (before the writes that follow pip, and before any recovery): idempotent. */
export function releaseReserve(envPath: string, env?: Env): void {
  rmSync(transactionReservePath(envPath, env), { force: true });
}

/** Move the journal to another phase (atomically), then the phase's crash point. */
export function setPhase(
  envPath: string,
  env: Env,
  journal: TransactionJournal,
  phase: TransactionPhase,
  extra: Partial<TransactionJournal> = {},
): void {
  Object.assign(journal, extra, { phase });
  writeFileAtomic(transactionJournalPath(envPath, env), JSON.stringify(journal) + '\n');
  if (phase !== 'started') crashPoint(`transaction-${phase}`);
}

/** The transaction is over: the journal goes first (it is what says "interrupted"), then the before state. */
export function endTransaction(envPath: string, env: Env): void {
  releaseReserve(envPath, env);
  for (const file of [transactionJournalPath(envPath, env), transactionBeforePath(envPath, env)]) {
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function procText(pid: number | string, what: 'cmdline' | 'environ' | 'stat'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${what}`, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is still the process the journal names: alive and, where /proc tells (Linux),
 * carrying the transaction's marker (pip) or running `blast pip` (Blast), since pids are reused.
 */
function stillRuns(pid: number | undefined, check: (cmdline: string, environ: string) => boolean): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  if (!existsSync('/proc/self')) return true;
  // A zombie (an orphan nothing reaped yet) changes nothing any more.
  if (/^\d+ \(.*\) Z /.test(procText(pid, 'stat') ?? '')) return false;
  const cmdline = procText(pid, 'cmdline');
  if (cmdline === undefined) return false; // exited meanwhile
  return check(cmdline, procText(pid, 'environ') ?? '');
}

/** A process whose environment carries the transaction's marker (pip, or what pip started). */
function findMarked(marker: string): number | undefined {
  if (!existsSync('/proc/self')) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  for (const p of pids) if (procText(p, 'environ')?.split('\0').includes(marker)) return Number(p);
  return undefined;
}

/** A live process of the transaction `id` (pip, or what pip started), found by its marker. */
export function markedProcess(id: string): number | undefined {
  return findMarked(`BLAST_TRANSACTION=${id}`);
}

export type TransactionState =
  | { state: 'none' }
  | { state: 'ours'; journal: TransactionJournal }
  | { state: 'running'; journal: TransactionJournal; pid: number; who: 'blast' | 'pip' }
  | { state: 'interrupted'; journal: TransactionJournal };

/** Whether a pip transaction is journaled in the environment, and whether it still runs. */
export function transactionState(envPath: string, env?: Env): TransactionState {
  const journal = readTransactionJournal(envPath, env);
  if (!journal) return { state: 'none' };
  if (journal.blastPid === process.pid) return { state: 'ours', journal };
  const marker = `BLAST_TRANSACTION=${journal.id}`;
  const command = typeof journal.command === 'string' ? journal.command : 'pip';
  if (stillRuns(journal.blastPid, (cmdline) => cmdline.split('\0').includes(command)))
    return { state: 'running', journal, pid: journal.blastPid, who: 'blast' };
  if (journal.phase === 'preparing' || journal.phase === 'started' || journal.phase === 'pip-running') {
    // Blast was killed; pip (its child) may live on and still be changing the environment.
    if (stillRuns(journal.pipPid, (_c, environ) => environ === '' || environ.split('\0').includes(marker)))
      return { state: 'running', journal, pid: journal.pipPid!, who: 'pip' };
    const found = findMarked(marker);
    if (found !== undefined) return { state: 'running', journal, pid: found, who: 'pip' };
  }
  return { state: 'interrupted', journal };
}

/** The clear refusal for a transaction that still runs. */
export function transactionRunsError(envPath: string, s: { pid: number; who: 'blast' | 'pip' }): BlastError {
  return new BlastError(
    s.who === 'blast'
      ? `A pip transaction (Blast pid ${s.pid}) is changing ${envPath}.`
      : `pip (pid ${s.pid}) of an interrupted Blast transaction is still changing ${envPath}.`,
    ExitCode.failure,
    s.who === 'blast'
      ? 'Wait for it to finish, then try again.'
      : 'Wait for it to exit (or stop it); the next Blast command then undoes the transaction.',
  );
}
