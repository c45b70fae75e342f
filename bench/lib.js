// What the benches share: the median, the time format, a timed child that ends the bench when it
// fails, and the machine's local index (pip's default index is out of reach here, and pip would
// retry it for minutes).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** pip's index for a bench: the machine's local one (BENCH_INDEX_URL to point elsewhere). */
export const LOCAL_INDEX = process.env.BENCH_INDEX_URL ?? 'file:///opt/pypi/simple';

/**
 * A bench's environment over this one: Blast's home under `root`, no colour, pip pointed at the
 * local index only (the machine's config adds extra indexes and find-links), no active shell.
 */
export function localIndexEnv(root) {
  const env = {
    ...process.env,
    NO_COLOR: '1',
    PIP_INDEX_URL: LOCAL_INDEX,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
  };
  for (const k of Object.keys(env)) if (k.startsWith('BLAST_SHELL') || k === 'VIRTUAL_ENV') delete env[k];
  env.BLAST_HOME = join(root, 'home');
  return env;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `850 ms`, `1.25 s`. */
export function fmt(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/**
 * A runner of whole processes with `env`: `run(file, args, options)` times one, and ends the bench
 * with the child's stderr when it fails (a bench of a failing command measures nothing).
 */
export function timedRunner(env) {
  return function run(file, args, options = {}) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, args, { env, encoding: 'utf8', maxBuffer: 1 << 26, ...options });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) {
      process.stderr.write(
        `bench: ${file} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n`,
      );
      process.exit(1);
    }
    return { ms, stdout: r.stdout, stderr: r.stderr };
  };
}

/**
 * Let the machine settle before a timed run: dirty pages written out (`sync`: a set-up's thousands
 * of deletes are otherwise still being committed while the run is timed) and `ms` of quiet, long
 * enough for the daemon to have recorded what the set-up changed (debounce + quiet time + its
 * `blast record`) instead of doing it during the run. Each peer gets the same.
 */
export function settle(ms = 2500) {
  spawnSync('sync');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
