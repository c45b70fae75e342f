/**
 * What every Blast command shares: a user-facing error is one clear message (and a hint) on
 * stderr, or a JSON object under --json, with its exit code — never a stack trace.
 */
// Subpath imports (here and in every command): `@oclif/core` itself loads help, ux and more on
// every run; see bin/run.js.
import { Command } from '@oclif/core/command';
import { asUserError, BlastError, ExitCode } from './errors.js';

/**
 * process.cwd() throws `ENOENT … uv_cwd` once the directory the shell is in was deleted. Every
 * command that needs the current directory asks for it, so this is caught once, here.
 */
function cwdGone(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException | undefined;
  return e?.code === 'ENOENT' && e.syscall === 'uv_cwd';
}

function cwdGoneError(): BlastError {
  return new BlastError(
    'The current directory no longer exists (it was deleted or moved away).',
    ExitCode.failure,
    '`cd` to a directory that exists, then run the command again.',
  );
}

export abstract class BlastCommand extends Command {
  protected override async catch(raw: Error & { exitCode?: number }): Promise<unknown> {
    // A full disk or a deleted cwd is the user's to fix, not a bug: plain words, no errno, no stack.
    const error = cwdGone(raw) ? cwdGoneError() : asUserError(raw);
    if (!error) return super.catch(raw);
    if (this.jsonEnabled()) {
      this.logJson({ error: { message: error.message, hint: error.hint, exitCode: error.exitCode } });
    } else {
      process.stderr.write(`blast: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    }
    return this.exit(error.exitCode);
  }
}
