/**
 * Test-only crash points: `BLAST_TEST_CRASH_AT=<step>` makes the process kill itself with SIGKILL
 * when it reaches that step, so tests can check that every multi-step change survives kill -9.
 */
export function crashPoint(step: string): void {
  if (process.env.BLAST_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}
