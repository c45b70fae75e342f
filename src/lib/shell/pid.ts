/**
 * The pid of the shell an activation belongs to. The `blast` shell function passes its own shell's
 * pid (`$$`/`$BASHPID`, `$fish_pid`, `$PID`) in BLAST_SHELL_PID for the CLI's run only. It never
 * comes from `process.ppid`: when the shell is killed while the CLI runs, the CLI is re-parented
 * (to pid 1 or a subreaper), and a daemon attached to that would live for ever.
 *
 * A pid is taken only while it is the shell running this command: alive, not pid 1 (init is never
 * a user's shell), and an ancestor of this process (a pid that is alive but not our ancestor is a
 * stale or reused one, or the shell died and we were re-parented).
 */
import { readFileSync } from 'node:fs';
import { BlastError, ExitCode } from '../cli/errors.js';
import { alive } from '../fs/alive.js';
import type { Env } from '../paths.js';

export const PID_VARIABLE = 'BLAST_SHELL_PID';

/** Ancestors looked at (a shell runs the CLI directly, or through a launcher or two). */
const MAX_DEPTH = 16;

/** The parent of `pid` from /proc; undefined when it is gone, or null without /proc (macOS). */
function parentOf(pid: number): number | undefined | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    try {
      readFileSync('/proc/self/stat');
    } catch {
      return null;
    }
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold anything, so read after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

/** Is `pid` an ancestor of this process? Without /proc, whether it is alive. */
function isAncestor(pid: number): boolean {
  let current: number | undefined | null = process.ppid;
  for (let depth = 0; depth < MAX_DEPTH && current !== undefined && current !== null; depth++) {
    if (current === pid) return parentOf(pid) !== undefined; // and not a zombie
    if (current <= 1) return false;
    current = parentOf(current);
  }
  return current === null ? alive(pid) : false;
}

/** How to load the current shell function, per shell, for the hint. */
function reload(shell: string): string {
  if (shell === 'fish') return 'blast init fish | source';
  if (shell === 'powershell') return 'Invoke-Expression ((blast init powershell) -join "`n")';
  return `eval "$(blast init ${shell})"`;
}

/**
 * The activation's shell, from the shell function's BLAST_SHELL_PID; a BlastError (nothing done
 * yet) when it is missing, malformed, pid 1, or not the shell running this command any more.
 */
export function shellPid(env: Env, shell: string): number {
  const raw = env[PID_VARIABLE];
  if (raw === undefined || raw === '') {
    throw new BlastError(
      `The blast function in this shell does not pass the shell's pid (${PID_VARIABLE}): it comes from an older Blast, or from a shell plugin that does not know it.`,
      ExitCode.usage,
      `Load the current function (\`${reload(shell)}\`), or open a new shell.`,
    );
  }
  const pid = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 1) {
    throw new BlastError(
      `${PID_VARIABLE}=${JSON.stringify(raw.slice(0, 40))} is not a process id.`,
      ExitCode.usage,
      `Let the blast function set it: \`${reload(shell)}\`, and do not set ${PID_VARIABLE} yourself.`,
    );
  }
  if (pid === 1) {
    throw new BlastError(
      `${PID_VARIABLE} names pid 1, which is the system's init, never a shell Blast can activate.`,
      ExitCode.usage,
      'Run Blast from an interactive shell; in a container whose shell is pid 1, start it with an init (`docker run --init`).',
    );
  }
  if (!isAncestor(pid)) {
    throw new BlastError(
      `The shell that ran this command (pid ${pid}) is gone, or is not the one running it; nothing was activated.`,
      ExitCode.failure,
      `Run the command again from a live shell whose blast function is loaded (\`${reload(shell)}\`).`,
    );
  }
  return pid;
}
