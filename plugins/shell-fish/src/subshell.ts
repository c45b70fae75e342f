/**
 * The activated subshell for users without the shell function (like `poetry shell`), done without
 * typing into a tty (poetry#4121): an interactive fish whose `--init-command` sources a generated
 * file that defines `blast` and applies the activation. fish runs init commands after its
 * configuration (config.fish, conf.d, the universal variables) and before it reads the first
 * command, so a config.fish that prepends to PATH cannot push the environment down (poetry#4216),
 * and the user's own startup runs exactly as in any other interactive fish.
 */
import type { SubshellContext, SubshellSpec } from 'blast/contract';
import { join } from 'node:path';
import { init } from './init.js';
import { quote } from './quote.js';

export function subshell(ctx: SubshellContext): SubshellSpec {
  const file = join(ctx.dir, 'activate.fish');
  const content = [
    '# Blast subshell: runs after the user config; defines blast, then activates.',
    init(ctx),
    ctx.activation,
  ].join('\n');
  return {
    command: 'fish',
    args: ['--interactive', '--init-command', `builtin source ${quote(file)}`],
    // The protocol variables belong to one CLI call; the subshell must not inherit them.
    env: { [ctx.scriptVariable]: null, [ctx.shellVariable]: null },
    files: { [file]: content },
  };
}
