import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { BlastError, ExitCode } from '../lib/cli/errors.js';
import { applyRc, rcPath, rcReport, type RcResult } from '../lib/shell/rc-install.js';
import { availableShells, chooseShell } from '../lib/shell/adapters.js';
import {
  generatedInit,
  initFilePath,
  printedInit,
  refreshCompletions,
  removeInitFile,
  writeInitFile,
} from '../lib/shell/init-file.js';
import { userBin } from '../lib/cli/user-bin.js';

type Printed = { shell: string; code: string };
type Installed = RcResult & { shell: string; line: string; initFile?: string };

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

    const options = { auto: flags.auto === true };
    if (!flags.install && !flags.uninstall) {
      const code = printedInit(this.config, adapter, options);
      if (!this.jsonEnabled()) process.stdout.write(code);
      return { shell: adapter.name, code };
    }

    if (adapter.initFile) {
      // The generated file first: the rc line that sources it must never point at nothing new.
      const file = initFilePath(adapter, env);
      if (flags.install) {
        const generated = generatedInit(this.config, adapter, env, options);
        await refreshCompletions(this.config, adapter);
        writeInitFile(adapter, env, generated);
      }
      const line = adapter.initFile.sourceLine(file);
      const result = applyRc({
        file: rcPath(adapter.rcFile, env),
        action: flags.install ? 'install' : 'uninstall',
        line,
        encoding: adapter.rcEncoding ?? 'utf8',
      });
      if (flags.uninstall) removeInitFile(this.config, adapter, env);
      if (!this.jsonEnabled()) this.log(rcReport(result, adapter.name, env));
      return { shell: adapter.name, line, initFile: file, ...result };
    }
    if (flags.auto)
      throw new BlastError(
        `The ${adapter.name} adapter cannot install --auto (it has no generated init file; plugin API 1.5).`,
        ExitCode.usage,
        `Load the output of \`blast init ${adapter.name} --auto\` from your shell's startup file yourself.`,
      );
    if (!adapter.rcLine) {
      throw new BlastError(
        `The ${adapter.name} adapter cannot install itself in an rc file (it has no rcLine; plugin API 1.1).`,
        ExitCode.failure,
        `Load the output of \`blast init ${adapter.name}\` from your shell's startup file yourself.`,
      );
    }
    const line = adapter.rcLine(userBin(this.config.root, env));
    const result = applyRc({
      file: rcPath(adapter.rcFile, env),
      action: flags.install ? 'install' : 'uninstall',
      line,
      encoding: adapter.rcEncoding ?? 'utf8',
    });
    if (!this.jsonEnabled()) this.log(rcReport(result, adapter.name, env));
    return { shell: adapter.name, line, ...result };
  }
}
