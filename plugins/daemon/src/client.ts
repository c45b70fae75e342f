/**
 * Talking to a daemon: one request per connection, newline-delimited JSON
 * `{v:1, id, op, ...}` → `{v:1, id, ok, result | error}`.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';

export const PROTOCOL_VERSION = 1;

/** The error a stopping daemon answers with: start a new one. */
export const SHUTTING_DOWN = 'shutting down';

export class DaemonError extends Error {
  constructor(
    message: string,
    /** `unreachable`: nothing answers on the socket; `timeout`; `refused`: the daemon said no. */
    readonly kind: 'unreachable' | 'timeout' | 'refused' | 'protocol',
  ) {
    super(message);
  }
}

export interface Reply {
  v: number;
  id: unknown;
  ok: boolean;
  result?: unknown;
  error?: string;
}

let nextId = 1;

export function request<T = unknown>(
  socket: string,
  op: string,
  args: Record<string, unknown> = {},
  timeoutMs = 1000,
): Promise<T> {
  return new Promise<T>((resolvePromise, rejectPromise) => {
    const id = nextId++;
    const conn = connect(socket);
    let buffer = '';
    let settled = false;
    const finish = (error: DaemonError | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      if (error) rejectPromise(error);
      else resolvePromise(value as T);
    };
    const timer = setTimeout(
      () => finish(new DaemonError(`no answer from ${socket} within ${timeoutMs} ms`, 'timeout')),
      timeoutMs,
    );
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(JSON.stringify({ v: PROTOCOL_VERSION, id, op, ...args }) + '\n'));
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      let reply: Reply;
      try {
        reply = JSON.parse(buffer.slice(0, end)) as Reply;
      } catch {
        return finish(new DaemonError('unreadable reply', 'protocol'));
      }
      if (reply.ok) finish(undefined, reply.result as T);
      else finish(new DaemonError(reply.error ?? 'refused', 'refused'));
    });
    conn.on('error', (error: NodeJS.ErrnoException) =>
      finish(new DaemonError(`${socket}: ${error.code ?? error.message}`, 'unreachable')),
    );
    conn.on('close', () => finish(new DaemonError('connection closed without a reply', 'unreachable')));
  });
}

/** Is a process with this pid alive (or at least present: a zombie counts)? */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The process's state letter from /proc (R, S, D, T stopped, Z zombie, …); undefined when it does
 * not exist or there is no /proc (macOS).
 */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The first field after the command name, which is in parentheses and may hold anything.
    const after = stat.lastIndexOf(')');
    return stat.slice(after + 2, after + 3) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Is the process there and able to run again? A zombie (exited, not yet reaped) is dead: it holds
 * no files and writes nothing. A stopped (SIGSTOP) or hung process is *not* dead. Without /proc
 * (macOS) a zombie cannot be told apart and counts as living.
 */
export function living(pid: number): boolean {
  if (!alive(pid)) return false;
  const state = processState(pid);
  if (state === undefined) return !existsSync('/proc/self/stat'); // with /proc: exited meanwhile
  return state !== 'Z' && state !== 'X';
}

/**
 * Is this pid a Blast daemon's (checked before killing one, or taking it for hung: pids are
 * reused)? Its command line names daemon/main.js: from /proc, else (macOS) from `ps`.
 */
export function isDaemonProcess(pid: number): boolean {
  let command: string;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    if (existsSync('/proc/self/cmdline')) return false; // gone
    const ps = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    command = ps.status === 0 ? ps.stdout : '';
  }
  return command.includes('daemon/main.js');
}

/** Waits (polling) until the process is gone or a zombie; false if it still lives after `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (living(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * SIGKILL a Blast daemon and wait until it is gone (a zombie counts as gone), so that nothing it
 * does can follow what replaces it. A pid that is not a living Blast daemon (pids are reused) is
 * left alone. Returns undefined when nothing was killed (not one, or gone meanwhile), else whether
 * it is gone within `waitMs`. A kill that fails otherwise (EPERM) throws.
 */
export async function killDaemon(pid: number, waitMs = 5000): Promise<boolean | undefined> {
  if (!living(pid) || !isDaemonProcess(pid)) return undefined;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw error;
  }
  return waitGone(pid, waitMs);
}

/** The pid in a pid file and the file's age; undefined when there is no file. */
export function readPidFile(file: string): { pid: number; ageMs: number } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const ageMs = Date.now() - statSync(file).mtimeMs;
    const pid = /^\d+$/.test(text.trim()) ? Number(text.trim()) : 0;
    return { pid, ageMs };
  } catch {
    return undefined;
  }
}
