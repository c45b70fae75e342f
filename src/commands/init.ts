import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { BlastError, ExitCode } from '../lib/cli/errors.js';
import { rcReport } from '../lib/shell/rc-install.js';
import { availableShells, chooseShell } from '../lib/shell/adapters.js';
import { type InitInstalled, installShellInit, printedInit } from '../lib/shell/init-file.js';

type Printed = { shell: string; code: string };

export default class Init extends BlastCommand {
  static override summary =
    'Print the shell code that defines the `blast` shell function; --install adds it to your rc file.';
  static override description = `With the function, \`blast start\` and \`blast kill\` change the shell you are in. Load it from your shell's rc file, like \`conda init\` or \`direnv hook\`:

  ~/.bashrc:  eval "$(blast init bash)"
  ~/.zshrc:   eval "$(blast init zsh)"

--install does better: it writes the function (and completions) into a file under Blast's data directory (BLAST_HOME/init/blast.bash, …) and adds a line that only sources that file to the rc file, between "# >>> blast initialize >>>" marker comments, so a new shell starts no process for Blast. The function notices on its next call when Blast or a plugin changed and rewrites the file. A second run changes nothing; an old eval line in the block is replaced; the rc file as it was before Blast's first change is kept as <file>.blast-backup (never overwritten). --uninstall removes exactly that block and the file.

--auto adds a prompt hook (bash, zsh, fish): \`cd\` into a project — a directory with .blast-env (an environment's name) or .venv/pyvenv.cfg, the nearest from the current directory up, below $HOME — starts its environment, \`cd\` out of it kills it, and between projects it switches. An environment you started by hand is never switched or killed by the hook, and a \`blast kill\` inside a project holds until you leave it. When nothing changed the hook starts no process.

Without a shell name, the shell is the one running the \`blast\` function, else the parent process, else $SHELL.`;

  static override enableJsonFlag = true;

  static override examples = [
    '<%= config.bin %> init bash',
    'eval "$(<%= config.bin %> init bash)"',
    '<%= config.bin %> init --install',
    '<%= config.bin %> init zsh --install --json',
    '<%= config.bin %> init bash --install --auto',
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
    auto: Flags.boolean({
      description: 'also activate a project’s environment on `cd` into it, and leave it on `cd` out',
      exclusive: ['uninstall'],
    }),
  };

  async run(): Promise<Printed | InitInstalled> {
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

    const options = { auto: flags.auto === true };
    if (!flags.install && !flags.uninstall) {
      const code = printedInit(this.config, adapter, options);
      if (!this.jsonEnabled()) process.stdout.write(code);
      return { shell: adapter.name, code };
    }

    const installed = await installShellInit(
      this.config,
      adapter,
      flags.install ? 'install' : 'uninstall',
      env,
      options,
    );
    if (!this.jsonEnabled()) this.log(rcReport(installed, adapter.name, env));
    return installed;
  }
}
