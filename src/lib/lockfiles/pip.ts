/** Running the environment's pip (and python) with output captured: the task list owns the terminal. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Env } from '../paths.js';
import { exitStatus } from '../cli/exit-status.js';

export interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

/** `bin/python ARGS` with stdin `input`; output captured, each line of it also given to `onLine`. */
export function runPython(
  envPath: string,
  args: readonly string[],
  options: {
    env?: Env;
    input?: string;
    onLine?: (line: string) => void;
    onSpawn?: (pid: number) => void;
    /** Ctrl-C and friends go to the child only: Blast must live on to roll back (pip in a transaction). */
    outliveSignals?: boolean;
  } = {},
): Promise<Captured> {
  const child = spawn(join(envPath, 'bin', 'python'), [...args], {
    env: (options.env ?? process.env) as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const lines = (chunk: string) => {
    if (!options.onLine) return;
    const all = (partial + chunk).split(/\r?\n/);
    partial = all.pop() ?? '';
    for (const l of all) if (l.trim()) options.onLine(l.trim());
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    lines(c);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    lines(c);
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  child.stdin.end(options.input ?? '');
  const ignore = () => {};
  const signals: NodeJS.Signals[] = options.outliveSignals ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] : [];
  for (const s of signals) process.on(s, ignore);
  return new Promise<Captured>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => done({ status: exitStatus(code, signal), stdout, stderr }));
  }).finally(() => {
    for (const s of signals) process.off(s, ignore);
  });
}

/** The last lines of pip's complaint, for an error message. */
export function tail(text: string, lines = 8): string {
  return text.trim().split(/\r?\n/).slice(-lines).join('\n');
}
