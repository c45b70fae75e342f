import { existsSync, writeFileSync } from 'node:fs';

/**
 * Test-only crash points: `BLAST_TEST_CRASH_AT=<step>` makes the process kill itself with SIGKILL
 * when it reaches that step, so tests can check that every multi-step change survives kill -9.
 */
export function crashPoint(step: string): void {
  if (process.env.BLAST_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}

/**
 * Test-only pause points: `BLAST_TEST_PAUSE_AT=<step>` makes the process write its pid to
 * `BLAST_TEST_PAUSE_FILE` when it reaches that step and wait (at most two minutes) until that
 * file is removed, so a test can kill what surrounds it (its shell) at that very step.
 */
export function pausePoint(step: string): void {
  const file = process.env.BLAST_TEST_PAUSE_FILE;
  if (process.env.BLAST_TEST_PAUSE_AT !== step || !file) return;
  writeFileSync(file, String(process.pid));
  const wait = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 120_000;
  while (existsSync(file) && Date.now() < deadline) Atomics.wait(wait, 0, 0, 20);
}
