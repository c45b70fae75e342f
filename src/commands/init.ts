import { Args } from '@oclif/core';
import { join } from 'node:path';
import { BlastCommand } from '../lib/base-command.js';
import { BlastError, ExitCode } from '../lib/errors.js';
import { availableShells, detectShell, findShell } from '../lib/shells.js';
import { SCRIPT_VARIABLE, SHELL_VARIABLE } from '../lib/shell-script.js';
import { completionModel } from '../lib/completion.js';

export default class Init extends BlastCommand {
  static override summary = 'Print the shell code that defines the `blast` shell function.';
  static override description = `With the function, \`blast start\` and \`blast kill\` change the shell you are in. Add the line
for your shell to its rc file, like \`conda init\` or \`direnv hook\`:

  ~/.bashrc:  eval "$(blast init bash)"
  ~/.zshrc:   eval "$(blast init zsh)"`;

  static override examples = [
    '<%= config.bin %> init bash',
    '<%= config.bin %> init zsh',
    'eval "$(<%= config.bin %> init bash)"',
  ];

  static override args = {
    shell: Args.string({ description: 'the shell (default: detected from the parent process, then $SHELL)' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Init);
    const name = args.shell ?? detectShell(process.env);
    if (!name) {
      const known = (await availableShells(this.config)).map((s) => s.adapter.name).join(', ');
      throw new BlastError(
        `Cannot tell which shell you use; name it: blast init <${known}>.`,
        ExitCode.usage,
      );
    }
    const adapter = await findShell(this.config, name);
    process.stdout.write(
      adapter.init({
        bin: join(this.config.root, 'bin', 'run.js'),
        scriptVariable: SCRIPT_VARIABLE,
        shellVariable: SHELL_VARIABLE,
        completion: completionModel(this.config),
      }),
    );
  }
}
