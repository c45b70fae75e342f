import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { join } from 'node:path';
import { BlastCommand } from '../lib/base-command.js';
import { BlastError, ExitCode } from '../lib/errors.js';
import { installFunction, rcReport, type RcResult } from '../lib/rc-install.js';
import { availableShells, chooseShell } from '../lib/shells.js';
import { PID_VARIABLE } from '../lib/shell-pid.js';
import { SCRIPT_VARIABLE, SHELL_VARIABLE } from '../lib/shell-script.js';
import { completionModel } from '../lib/completion.js';
import { userBin } from '../lib/user-bin.js';

type Printed = { shell: string; code: string };
type Installed = RcResult & { shell: string; line: string };

export default class Init extends BlastCommand {
  static override summary =
    'Print the shell code that defines the `blast` shell function; --install adds it to your rc file.';
  static override description = `With the function, \`blast start\` and \`blast kill\` change the shell you are in. Load it from your shell's rc file, like \`conda init\` or \`direnv hook\`:

  ~/.bashrc:  eval "$(blast init bash)"
  ~/.zshrc:   eval "$(blast init zsh)"

--install writes that line for you, between "# >>> blast initialize >>>" marker comments: a second run changes nothing, and the file as it was before Blast's first change is kept as <file>.blast-backup (never overwritten). --uninstall removes exactly that block.

Without a shell name, the shell is the one running the \`blast\` function, else the parent process, else $SHELL.`;

  static override enableJsonFlag = true;

  static override examples = [
    '<%= config.bin %> init bash',
    'eval "$(<%= config.bin %> init bash)"',
    '<%= config.bin %> init --install',
    '<%= config.bin %> init zsh --install --json',
    '<%= config.bin %> init --uninstall',
  ];

  static override args = {
    shell: Args.string({ description: 'the shell (default: detected from the parent process, then $SHELL)' }),
  };

  static override flags = {
    install: Flags.boolean({
      description: "add the line that loads the function to the shell's rc file (idempotent)",
      exclusive: ['uninstall'],
    }),
    uninstall: Flags.boolean({ description: 'remove what --install added', exclusive: ['install'] }),
    shell: Flags.string({ description: 'the shell, overriding detection (same as the argument)' }),
  };

  async run(): Promise<Printed | Installed> {
    const { args, flags } = await this.parse(Init);
    const env = process.env;
    if (args.shell !== undefined && flags.shell !== undefined && args.shell !== flags.shell) {
      throw new BlastError(
        `Two shells named: ${args.shell} and --shell ${flags.shell}; name one.`,
        ExitCode.usage,
      );
    }
    const chosen = await chooseShell(this.config, env, flags.shell ?? args.shell);
    if (!chosen) {
      const known = (await availableShells(this.config)).map((s) => s.adapter.name).join('|');
      throw new BlastError(
        `Cannot tell which shell you use; name it: blast init <${known}>.`,
        ExitCode.usage,
      );
    }
    const { adapter } = chosen;

    if (!flags.install && !flags.uninstall) {
      const code = adapter.init({
        bin: join(this.config.root, 'bin', 'run.js'),
        scriptVariable: SCRIPT_VARIABLE,
        shellVariable: SHELL_VARIABLE,
        pidVariable: PID_VARIABLE,
        completion: completionModel(this.config),
      });
      if (!this.jsonEnabled()) process.stdout.write(code);
      return { shell: adapter.name, code };
    }

    const action = flags.install ? 'install' : 'uninstall';
    const result = installFunction(adapter, action, userBin(this.config.root, env), env);
    if (!this.jsonEnabled()) this.log(rcReport(result, adapter.name, env));
    return { shell: adapter.name, ...result };
  }
}
