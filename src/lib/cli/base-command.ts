/**
 * What every Blast command shares: a user-facing error is one clear message (and a hint) on
 * stderr, or a JSON object under --json, with its exit code — never a stack trace.
 */
// Subpath imports (here and in every command): `@oclif/core` itself loads help, ux and more on
// every run; see bin/run.js.
import { Command } from '@oclif/core/command';
import type { Interfaces } from '@oclif/core';
import { BlastError, ExitCode, userErrorOf } from './errors.js';
import { closest } from './suggest.js';

/** `--pathh` on a command that has `--path`: the parser's error, with the flag that was meant. */
function unknownFlagError(
  raw: Error & { flags?: unknown },
  command: string,
  flags: Interfaces.FlagInput | undefined,
): BlastError | undefined {
  if (raw.name !== 'NonExistentFlagsError' && !raw.message.startsWith('Nonexistent flag')) return undefined;
  const typed = Array.isArray(raw.flags) ? raw.flags.map(String) : [];
  if (typed.length === 0) return undefined;
  const known = Object.entries(flags ?? {}).flatMap(([name, flag]) => [
    `--${name}`,
    ...(flag.char ? [`-${flag.char}`] : []),
    ...((flag as { aliases?: string[] }).aliases ?? []).map((alias) => `--${alias}`),
  ]);
  const said = typed.map((flag) => {
    const bare = flag.replace(/=.*$/s, '');
    const near = closest(
      bare,
      known.filter((k) => k.startsWith('--') === bare.startsWith('--')),
    );
    return near ? `${bare} (did you mean ${near}?)` : bare;
  });
  return new BlastError(
    `${command} has no flag ${said.join(', ')}.`,
    ExitCode.usage,
    `\`blast ${command} --help\` lists its flags.`,
  );
}

export abstract class BlastCommand extends Command {
  /** The flags the last parse knew (plugins' settings included), for "did you mean". */
  private parsedFlags: Interfaces.FlagInput | undefined;

  protected override async parse<
    F extends Interfaces.OutputFlags<Interfaces.FlagInput>,
    B extends Interfaces.OutputFlags<Interfaces.FlagInput>,
    A extends Interfaces.OutputArgs<Interfaces.ArgInput>,
  >(options?: Interfaces.Input<F, B, A>, argv?: string[]): Promise<Interfaces.ParserOutput<F, B, A>> {
    this.parsedFlags = (options?.flags ?? this.ctor.flags) as Interfaces.FlagInput | undefined;
    return super.parse(options, argv);
  }

  protected override async catch(raw: Error & { exitCode?: number }): Promise<unknown> {
    // A full disk or a deleted cwd is the user's to fix, not a bug: plain words, no errno, no stack.
    const error =
      userErrorOf(raw) ?? unknownFlagError(raw, this.id?.split(':').join(' ') ?? '', this.parsedFlags);
    if (!error) return super.catch(raw);
    if (this.jsonEnabled()) {
      this.logJson({ error: { message: error.message, hint: error.hint, exitCode: error.exitCode } });
    } else {
      process.stderr.write(`blast: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    }
    return this.exit(error.exitCode);
  }
}
