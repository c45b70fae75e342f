import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { join } from 'node:path';
import { BlastCommand } from '../lib/cli/base-command.js';
import { BlastError, ExitCode, messageOf } from '../lib/cli/errors.js';
import { runEnvironment, runProcess, runTarget } from '../lib/envs/run.js';
import { ensureShim } from '../lib/transaction/shim.js';
import { wrapProcess } from '../lib/plugin-host/wrap.js';

export default class Run extends BlastCommand {
  static override summary = 'Run a command inside an environment without activating it.';
  static override description = `The command gets the variables an activation would give it (VIRTUAL_ENV, the environment's bin first on PATH, PYTHONHOME unset, the variables stored with --env) and runs under the environment's policy: resource limits or the sandbox of the isolation plugin apply to it as to an activated shell. It runs on this terminal and its exit status is Blast's (128+N when signal N ended it).

Without NAME or --path: the environment active in this shell, else the project's .venv in the current directory. Everything after -- is the command, as given.`;

  static override examples = [
    '<%= config.bin %> run demo -- python -c "import sys; print(sys.prefix)"',
    '<%= config.bin %> run -- pytest -x',
    '<%= config.bin %> run --path .venv -- python -m http.server',
    '<%= config.bin %> run sandboxed -- bash',
  ];

  static override args = {
    name: Args.string({ description: 'environment name (default: the active one, else the project .venv)' }),
  };

  static override flags = {
    path: Flags.string({ description: 'project-local environment directory' }),
  };

  async run(): Promise<void> {
    // Everything after `--` is the command, untouched by oclif's parser (read before parsing).
    const at = this.argv.indexOf('--');
    const command = at < 0 ? [] : this.argv.slice(at + 1);
    const { args, flags } = await this.parse(Run, at < 0 ? [...this.argv] : this.argv.slice(0, at));
    if (command.length === 0 || command[0] === '') {
      throw new BlastError(
        'Give the command to run after --.',
        ExitCode.usage,
        'For example: blast run demo -- python -c "print(42)"',
      );
    }
    const cwd = process.cwd();
    const loaded = await runTarget(args.name, flags.path, { env: process.env, cwd });
    const environment = runEnvironment(process.env, loaded, this.pipShim(loaded.info.python.version));
    const [program, ...rest] = command as [string, ...string[]];
    const wrapped = await wrapProcess(this.config, {
      env: loaded.info,
      purpose: 'run',
      command: program,
      args: rest,
      cwd,
      environment,
      readable: [],
    });
    const status = await runProcess(
      wrapped.command,
      wrapped.args,
      { ...environment, ...wrapped.env },
      cwd,
      program,
    );
    if (status !== 0) this.exit(status);
  }

  /** The pip shim, so `pip install` inside is a Blast transaction as in an activated shell. */
  private pipShim(pythonVersion: string): string | undefined {
    try {
      return ensureShim(pythonVersion, process.execPath, join(this.config.root, 'bin', 'run.js'));
    } catch (error) {
      this.warn(`pip runs without Blast transactions: cannot write the pip shim (${messageOf(error)}).`);
      return undefined;
    }
  }
}
