/**
 * `blast strat`: a command that does not exist. On a terminal, @oclif/plugin-not-found asks
 * whether the nearest command was meant and runs it; anywhere else (scripts, CI, pipes) nothing
 * is asked: the error names the nearest command and the command fails (127, as a shell's).
 */
import type { Hook } from '@oclif/core';
import { closest } from '../lib/cli/suggest.js';

const hook: Hook<'command_not_found'> = async function (options) {
  const { config, id } = options;
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const { default: ask } = (await import('@oclif/plugin-not-found')) as {
      default: Hook<'command_not_found'>;
    };
    return ask.call(this, options);
  }
  const hidden = new Set(config.commands.filter((c) => c.hidden).map((c) => c.id));
  const ids = [...config.commandIDs, ...config.commands.flatMap((c) => c.aliases)].filter(
    (c) => !hidden.has(c),
  );
  const shown = (commandId: string) => commandId.split(':').join(config.topicSeparator);
  // With topics separated by spaces, oclif joins the arguments into the id (`strat demo` is
  // `strat:demo`): the typed command is its first word unless the whole is near a command.
  const word = id.split(':')[0]!;
  const whole = closest(id, ids);
  const typed = whole ? id : word;
  const near = whole ?? closest(word, ids);
  process.stderr.write(
    `blast: ${shown(typed)} is not a blast command${near ? `; did you mean \`blast ${shown(near)}\`?` : '.'}\n` +
      `  Run \`blast help\` for the list of commands.\n`,
  );
  return this.exit(127);
};

export default hook;
