/**
 * A failure in the user's words: a plain Error carrying `exitCode` and `hint`, the shape the core
 * honours from any plugin (API 1.5) — no copy of the core's BlastError class.
 */
export type Failure = Error & { exitCode: number; hint?: string };

export function failure(message: string, exitCode = 1, hint?: string): Failure {
  return Object.assign(new Error(message), { exitCode, ...(hint === undefined ? {} : { hint }) });
}

/** One of ours (or any error shaped like it). */
export function isFailure(error: unknown): error is Failure {
  return error instanceof Error && typeof (error as { exitCode?: unknown }).exitCode === 'number';
}
