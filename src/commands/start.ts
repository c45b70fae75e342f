import { Args, Flags } from '@oclif/core';
import { join } from 'node:path';
import { BlastCommand } from '../lib/base-command.js';
import { startChange } from '../lib/activation.js';
import { createEnv, loadEnv, planCreation, resolveTarget, updateVariables } from '../lib/environments.js';
import { parseEnvAssignments } from '../lib/names.js';
import { runPhase } from '../lib/phases.js';
import { detectShell, findShell } from '../lib/shells.js';
import { SCRIPT_VARIABLE, SHELL_VARIABLE, shellFunction, writeShellScript } from '../lib/shell-script.js';
import { runSubshell } from '../lib/subshell.js';
import { collectActivation } from '../lib/contributions.js';
import { BlastError, ExitCode } from '../lib/errors.js';

export default class Start extends BlastCommand {
  static override summary = 'Create an environment if needed and activate it in this shell.';
  static override description = `Named environments live under BLAST_HOME (default ~/.local/share/blast/envs); --path makes a
project-local one; with neither, the project's .venv in the current directory is used.

Through the \`blast\` shell function (see \`blast init\`) the current shell is activated; without
it, an activated subshell opens, and \`exit\` leaves it. Starting another environment while one is
active switches to it; \`blast kill\` restores the shell as it was before the first start.`;

  static override examples = [
    '<%= config.bin %> start demo',
    '<%= config.bin %> start api --python 3.12',
    "<%= config.bin %> start tools --python '>=3.10,<3.13'",
    '<%= config.bin %> start --path .venv --env DJANGO_SETTINGS_MODULE=site.settings',
  ];

  static override args = {
    name: Args.string({
      description: 'environment name (default: the project .venv in the current directory)',
    }),
  };

  static override flags = {
    python: Flags.string({
      char: 'p',
      description:
        'interpreter for a new environment: a path, 3.12, 3.12.1, a PEP 440 spec like >=3.10,<3.13, or python3.11',
    }),
    path: Flags.string({ description: 'project-local environment directory' }),
    env: Flags.string({
      char: 'e',
      description: 'variable to export while active, NAME=VALUE (repeatable; stored with the environment)',
      multiple: true,
    }),
    shell: Flags.string({
      description: 'shell for the subshell when the shell function is not installed (default: detected)',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Start);
    const env = process.env;
    const ctx = { env, cwd: process.cwd() };
    const assignments = parseEnvAssignments(flags.env ?? []);
    const target = resolveTarget(args.name, flags.path, ctx);
    const through = shellFunction(env);
    const shellName = through?.shell ?? flags.shell ?? detectShell(env);
    if (!shellName) throw new BlastError('Cannot tell which shell you use; pass --shell.', ExitCode.usage);
    const adapter = await findShell(this.config, shellName);

    let loaded = await loadEnv(target);
    const planned = loaded ? undefined : await planCreation(target, flags.python, ctx);
    if (loaded && flags.python) {
      this.warn(
        `${loaded.info.name} exists (Python ${loaded.info.python.version}); --python applies only when creating.`,
      );
    }
    const info = loaded?.info ?? planned!.info;
    // Through the function the activation lives as long as the calling shell; a subshell lives as
    // long as this process, which waits for it.
    const shellPid = through ? process.ppid : process.pid;
    const event = { env: info, creating: !loaded, shell: adapter.name, shellPid };
    await runPhase(this.config, 'preStart', event, 'veto');

    if (planned) {
      loaded = await createEnv(planned, assignments, ctx);
      process.stderr.write(`blast: created ${info.name} (Python ${info.python.version}) in ${info.path}\n`);
    } else {
      loaded = await updateVariables(loaded!, assignments);
    }

    const contributions = await collectActivation(this.config, event);
    const change = startChange(env, {
      env: loaded.info,
      variables: loaded.config.variables,
      ...contributions,
    });
    const code = adapter.render(change);

    if (through) {
      writeShellScript(through.script, code);
      for (const note of contributions.notes) process.stderr.write(`${note}\n`);
      await runPhase(this.config, 'postStart', event, 'inform');
      return;
    }

    process.stderr.write(
      `blast: opening an activated ${adapter.name} subshell; \`exit\` leaves it.\n` +
        `  To activate in your own shell instead, add this to ~/${adapter.rcFile}: eval "$(blast init ${adapter.name})"\n`,
    );
    await runPhase(this.config, 'postStart', event, 'inform');
    const status = await runSubshell(adapter, {
      activation: code,
      bin: join(this.config.root, 'bin', 'run.js'),
      scriptVariable: SCRIPT_VARIABLE,
      shellVariable: SHELL_VARIABLE,
      home: env.HOME ?? '',
      env,
    });
    if (status !== 0) this.exit(status);
  }
}
