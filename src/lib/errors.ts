/**
 * Errors the user is meant to read. The CLI prints `message` (and `hint`) without a stack trace
 * and exits with `exitCode`. Anything else that escapes is a bug and keeps its stack.
 */
export class BlastError extends Error {
  override readonly name = 'BlastError';
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Exit codes, stable for scripts. */
export const ExitCode = {
  failure: 1,
  usage: 2,
  notFound: 3,
  veto: 4,
  checkFailed: 5,
} as const;

export function isBlastError(error: unknown): error is BlastError {
  return error instanceof BlastError;
}

/** The message of anything thrown, for reports that must not show a stack. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
