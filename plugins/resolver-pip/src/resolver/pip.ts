/** Running an environment's own pip (`<env>/bin/python -m pip`) and capturing what it prints. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface PipOutput {
  status: number;
  stdout: string;
  stderr: string;
}

export function pythonOf(envPath: string): string {
  return join(envPath, 'bin', 'python');
}

/** The core's pip launcher (InstallEvent.pip, API 1.6): runs pip as Blast runs every pip (sandboxed). */
export type CorePip = (
  args: readonly string[],
  env?: Readonly<Record<string, string | undefined>>,
) => Promise<PipOutput>;

export function runPipCaptured(
  envPath: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  core?: CorePip,
): Promise<PipOutput> {
  if (core) return core(args, { ...env, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' });
  return new Promise((resolve, reject) => {
    const child = spawn(pythonOf(envPath), ['-m', 'pip', ...args], {
      env: { ...env, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        status: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** The last meaningful lines of pip's error output, for a one-line explanation. */
export function pipErrorSummary(output: PipOutput, lines = 3): string {
  const text = (output.stderr.trim() || output.stdout.trim())
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('WARNING:'))
    .map((l) => l.replace(/^ERROR: /, ''));
  return text.slice(-lines).join('; ') || `pip exited with status ${output.status}`;
}
