/** Running the environment's pip (and python) with output captured: the task list owns the terminal. */
import { join } from 'node:path';
import type { Env } from '../paths.js';
import { captureProcess, type CaptureOptions, type PipOutput } from '../transaction/pip-process.js';

export type Captured = PipOutput;

/** `bin/python ARGS` with stdin `input`; output captured, each line of it also given to `onLine`. */
export function runPython(
  envPath: string,
  args: readonly string[],
  options: CaptureOptions & { env?: Env } = {},
): Promise<Captured> {
  return captureProcess(join(envPath, 'bin', 'python'), args, options);
}

/** The last lines of pip's complaint, for an error message. */
export function tail(text: string, lines = 8): string {
  return text.trim().split(/\r?\n/).slice(-lines).join('\n');
}
