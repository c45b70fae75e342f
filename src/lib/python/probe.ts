/**
 * One `python -c` run that reports everything Blast needs to know about an interpreter: the
 * program is src/python/probe.py, which must run on every Python a user may have (2.7 included,
 * so it can be listed and rejected with a reason).
 */
import { createHash } from 'node:crypto';
import type { Env } from '../paths.js';
import { pythonProgram } from './programs.js';
import type { ProbeFacts } from './types.js';

let probeIdCache: string | undefined;

/** Changes whenever the probe changes, so facts from an older Blast are not trusted. */
export function probeId(): string {
  return (probeIdCache ??= createHash('sha256').update(pythonProgram('probe')).digest('hex').slice(0, 16));
}

/** A clean environment for running an interpreter we only want to ask questions. */
export function pythonEnv(env: Env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (k.startsWith('PYTHON') || k === 'VIRTUAL_ENV' || k === '__PYVENV_LAUNCHER__') continue;
    out[k] = v;
  }
  return out;
}

export class ProbeError extends Error {}

/** Run the probe with `executable`; rejects with a ProbeError saying why it is not a usable Python. */
export async function probe(executable: string, env: Env, timeoutMs = 20000): Promise<ProbeFacts> {
  // Loaded only on a cache miss: most runs never start a Python.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      ['-E', '-s', '-c', pythonProgram('probe')],
      { env: pythonEnv(env), cwd: '/', timeout: timeoutMs, maxBuffer: 4 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('BLAST-PROBE:'));
        if (error || !line) {
          const why = error?.message.split('\n')[0] ?? 'no answer';
          const detail = stderr.trim().split('\n').slice(-1)[0];
          reject(new ProbeError(detail ? `${why}: ${detail}` : why));
          return;
        }
        try {
          resolve(JSON.parse(line.slice('BLAST-PROBE:'.length)) as ProbeFacts);
        } catch (e) {
          reject(new ProbeError(`unreadable answer: ${(e as Error).message}`));
        }
      },
    );
  });
}
