/** How a child process ended, as a shell reports it. */
import { constants } from 'node:os';

/** Its exit code, or 128+N when signal N ended it (SIGKILL: 137). */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}
