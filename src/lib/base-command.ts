/**
 * What every Blast command shares: a user-facing error is one clear message (and a hint) on
 * stderr, or a JSON object under --json, with its exit code — never a stack trace.
 */
// Subpath imports (here and in every command): `@oclif/core` itself loads help, ux and more on
// every run; see bin/run.js.
import { Command } from '@oclif/core/command';
import { asUserError } from './errors.js';

export abstract class BlastCommand extends Command {
  protected override async catch(raw: Error & { exitCode?: number }): Promise<unknown> {
    // A full disk anywhere is the user's to fix, not a bug: plain words, no errno, no stack.
    const error = asUserError(raw);
    if (!error) return super.catch(raw);
    if (this.jsonEnabled()) {
      this.logJson({ error: { message: error.message, hint: error.hint, exitCode: error.exitCode } });
    } else {
      process.stderr.write(`blast: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    }
    return this.exit(error.exitCode);
  }
}
