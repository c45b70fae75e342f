import { diskFullText } from '../fs/disk-full.js';

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

/** The message of anything thrown, for reports that must not show a stack (a full disk said plainly). */
export function messageOf(error: unknown): string {
  if (error instanceof BlastError) return error.message; // already in the user's words
  const full = diskFullText(error);
  if (full) return full.message;
  if (error instanceof Error) return error.message;
  // A plugin's error shaped like a BlastError (`{message, hint?, exitCode?}`), thrown as a plain object.
  const shaped = (error as { message?: unknown } | null)?.message;
  if (typeof shaped === 'string') return shaped;
  return String(error);
}

/**
 * A write that failed because the disk (or quota) is full, as a BlastError: `disk full: <what> could
 * not be written at <path> (N free)` and the way out. Undefined when `error` is something else.
 */
export function diskFullError(
  error: unknown,
  options: { what?: string; path?: string; hint?: string } = {},
): BlastError | undefined {
  if (isBlastError(error)) return undefined;
  const full = diskFullText(error, options);
  if (!full) return undefined;
  const translated = new BlastError(full.message, ExitCode.failure, options.hint ?? full.hint);
  translated.cause = error; // still a full disk to isDiskFull, for callers that decide on it
  return translated;
}

/** What the user sees of `error`: a BlastError as it is, a full disk translated; undefined for a bug. */
export function asUserError(error: unknown): BlastError | undefined {
  return isBlastError(error) ? error : diskFullError(error);
}

/**
 * process.cwd() throws `ENOENT … uv_cwd` once the directory the shell is in was deleted. Every
 * command that needs the current directory asks for it, so this is caught once, where a
 * command's error is shown.
 */
function cwdGone(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException | undefined;
  return e?.code === 'ENOENT' && e.syscall === 'uv_cwd';
}

/** What a command shows of `error`: asUserError's, and a deleted current directory said plainly. */
export function userErrorOf(error: unknown): BlastError | undefined {
  if (cwdGone(error))
    return new BlastError(
      'The current directory no longer exists (it was deleted or moved away).',
      ExitCode.failure,
      '`cd` to a directory that exists, then run the command again.',
    );
  return asUserError(error);
}
