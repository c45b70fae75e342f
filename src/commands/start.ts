import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { join } from 'node:path';
import { BlastCommand } from '../lib/base-command.js';
import { assertActivationFits, startChange } from '../lib/activation.js';
import {
  createEnv,
  ensureRegistered,
  loadEnv,
  planCreation,
  resolveTarget,
  type Target,
  updateEnvConfig,
} from '../lib/environments.js';
import type { EnvInfo, ShellAdapter } from '../lib/contract.js';
import { parseEnvAssignments, parseEnvRemovals } from '../lib/names.js';
import { runPhase } from '../lib/phases.js';
import { chooseShell, findShell } from '../lib/shells.js';
import { PID_VARIABLE, shellPid as shellPidOf } from '../lib/shell-pid.js';
import { SCRIPT_VARIABLE, SHELL_VARIABLE, shellFunction, writeShellScript } from '../lib/shell-script.js';
import { runSubshell } from '../lib/subshell.js';
import { collectActivation } from '../lib/contributions.js';
import { BlastError, ExitCode, messageOf } from '../lib/errors.js';
import { ensureShim } from '../lib/transaction/shim.js';
import {
  collectSettingSpecs,
  mergeSettings,
  parseGiven,
  settingFlags,
  unknownFlags,
  type OwnedSpec,
  RESERVED_SETTING_NAMES,
} from '../lib/settings.js';
import { wrapProcess } from '../lib/wrap.js';
import { hasJournal, looksHalfRestored } from '../lib/store/journal-files.js';
import { assertRunnable } from '../lib/env-health.js';
import { pausePoint } from '../lib/store/crash.js';

/** `--python` for an environment that exists: it must agree with the Python the env was made with. */
async function checkPython(info: EnvInfo, spec: string, warn: (message: string) => void): Promise<void> {
  const { versionSatisfies } = await import('../lib/python/index.js');
  const ok = await versionSatisfies(spec, info.python.version);
  if (ok === undefined)
    warn(`${info.name} exists (Python ${info.python.version}); --python applies only when creating.`);
  if (ok === false) {
    throw new BlastError(
      `${info.name} uses Python ${info.python.version}, which is not --python ${spec}.`,
      ExitCode.usage,
      `To make it again with another Python: blast clean ${info.name} --yes, then blast start ${info.name} --python ${spec}.`,
    );
  }
}

/** The settings given on the command line, as `[name, value]` pairs in flag order. */
function givenSettings(
  specs: readonly OwnedSpec[],
  flags: Record<string, unknown>,
): Array<[string, string | boolean]> {
  const out: Array<[string, string | boolean]> = [];
  for (const spec of specs) {
    const value = flags[spec.name];
    if (Array.isArray(value)) for (const v of value) out.push([spec.name, String(v)]);
    else if (typeof value === 'string') out.push([spec.name, value]);
    else if (value === true) out.push([spec.name, true]);
  }
  return out;
}

export default class Start extends BlastCommand {
  static override summary = 'Create an environment if needed and activate it in this shell.';
  static override description = `Named environments live under BLAST_HOME (default ~/.local/share/blast/envs); --path makes a project-local one; with neither, the project's .venv in the current directory is used.

Through the \`blast\` shell function (see \`blast init\`) the current shell is activated; without it, an activated subshell opens, and \`exit\` leaves it. Starting another environment while one is active switches to it; \`blast kill\` restores the shell as it was before the first start.`;

  static override examples = [
    '<%= config.bin %> start demo',
    '<%= config.bin %> start api --python 3.12',
    "<%= config.bin %> start tools --python '>=3.10,<3.13'",
    '<%= config.bin %> start --path .venv --env DJANGO_SETTINGS_MODULE=site.settings',
    '<%= config.bin %> start web --unset-env DJANGO_DEBUG',
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
    'unset-env': Flags.string({
      description: 'stop exporting a variable stored with --env (repeatable)',
      multiple: true,
    }),
    shell: Flags.string({
      description: 'shell for the subshell when the shell function is not installed (default: detected)',
    }),
  };

  async run(): Promise<void> {
    // Plugins' settings are flags too (`--constraint`, `--isolation`); asking plugins for them
    // costs a hook, so only when the command line has a flag the core does not know.
    const specs = unknownFlags(this.argv, RESERVED_SETTING_NAMES).length
      ? await collectSettingSpecs(this.config, RESERVED_SETTING_NAMES)
      : [];
    const { args, flags } = await this.parse({
      ...Start,
      flags: { ...Start.flags, ...settingFlags(specs) },
    });
    const given = givenSettings(specs, flags as Record<string, unknown>);
    const env = process.env;
    const ctx = { env, cwd: process.cwd() };
    const assignments = parseEnvAssignments(flags.env ?? []);
    const removals = parseEnvRemovals(flags['unset-env'] ?? []);
    const target = resolveTarget(args.name, flags.path, ctx);
    const through = shellFunction(env);
    // Through the function, the function's shell is the one to render for, whatever --shell says.
    const chosen = through
      ? { adapter: await findShell(this.config, through.shell) }
      : await chooseShell(this.config, env, flags.shell);
    if (!chosen) throw new BlastError('Cannot tell which shell you use; pass --shell.', ExitCode.usage);
    const { adapter } = chosen;
    // The activation lives as long as the shell that runs the function, which passes its own pid
    // (never process.ppid: a CLI whose shell was killed is re-parented). Checked before anything is
    // written. Without the function, the subshell's own start is the one that activates; this
    // process is what preStart sees.
    const shellPid = through ? shellPidOf(env, through.shell) : process.pid;

    let loaded = await loadEnv(target, env);
    if (loaded) await ensureRegistered(loaded, env);
    const planned = loaded ? undefined : await planCreation(target, flags.python, ctx);
    if (loaded && flags.python) await checkPython(loaded.info, flags.python, (m) => this.warn(m));
    if (loaded) assertRunnable(loaded.info);
    if (loaded && (hasJournal(loaded.info.path, env) || looksHalfRestored(loaded.info.path, env)))
      await this.recover(loaded.info);
    const info = loaded?.info ?? planned!.info;
    const settings =
      given.length || !loaded
        ? mergeSettings(loaded?.config.settings ?? {}, parseGiven(specs, given))
        : undefined;
    if (settings) info.settings = settings;
    pausePoint('start-activate');
    const event = { env: info, creating: !loaded, shell: adapter.name, shellPid };
    await runPhase(this.config, 'preStart', event, 'veto');

    if (through) {
      // Variables that would leave this shell unable to start programs are refused before they
      // are stored (the subshell checks again with its own variables).
      const variables = { ...(loaded?.config.variables ?? {}) };
      for (const name of removals) delete variables[name];
      assertActivationFits(env, info, Object.assign(variables, assignments));
    }
    if (planned) {
      loaded = await createEnv(planned, assignments, ctx, settings);
      process.stderr.write(`blast: created ${info.name} (Python ${info.python.version}) in ${info.path}\n`);
    } else {
      loaded = await updateEnvConfig(loaded!, assignments, removals, settings);
    }

    if (!through) {
      await this.openSubshell(adapter, target, loaded.info);
      return;
    }
    const contributions = await collectActivation(this.config, event);
    if (contributions.subshell) {
      // This shell cannot hold the activation (e.g. it must run in a sandbox): a subshell that
      // can opens instead, and this shell's part in the activation ends when it exits.
      process.stderr.write(`blast: ${contributions.subshell}\n`);
      for (const note of contributions.notes) process.stderr.write(`${note}\n`);
      try {
        await this.openSubshell(adapter, target, loaded.info, true);
      } finally {
        const ended = { env: loaded.info, force: false, shellPid };
        await runPhase(this.config, 'preKill', ended, 'inform');
        await runPhase(this.config, 'postKill', ended, 'inform');
      }
      return;
    }
    const change = startChange(env, {
      env: loaded.info,
      variables: loaded.config.variables,
      ...contributions,
      shim: this.pipShim(loaded.info),
    });
    writeShellScript(through.script, adapter.render(change));
    for (const note of contributions.notes) process.stderr.write(`${note}\n`);
    await runPhase(this.config, 'postStart', event, 'inform');
  }

  /**
   * A change a kill -9 left half done (a restore, a pip transaction) is finished or undone before
   * the environment is activated; one still running is only reported. The store is loaded only
   * when a journal says there is something to do.
   */
  private async recover(info: EnvInfo): Promise<void> {
    const { recoverAll } = await import('../lib/store/recover.js');
    const recovery = recoverAll(info.path, { env: process.env });
    if (recovery.busy) this.warn(recovery.busy);
    // Its journal is gone: no command can finish it, and nothing should run in it as it is.
    if (recovery.halfRestored)
      throw new BlastError(
        `${recovery.halfRestored}; it was not activated.`,
        ExitCode.failure,
        'Run `blast check --fix` to restore it to that state again (or `blast load` a snapshot or --revision).',
      );
    if (recovery.outcome !== 'none')
      process.stderr.write(`blast: ${recovery.outcome} an interrupted restore of ${info.name}\n`);
    if (recovery.transaction)
      process.stderr.write(`blast: ${recovery.transaction} an interrupted pip transaction in ${info.name}\n`);
  }

  /** The pip shim's directory, first on PATH so every `pip` runs in a transaction (`blast pip`). */
  private pipShim(info: EnvInfo): string | undefined {
    try {
      return ensureShim(info.python.version, process.execPath, join(this.config.root, 'bin', 'run.js'));
    } catch (error) {
      this.warn(`pip runs without Blast transactions: cannot write the pip shim (${messageOf(error)}).`);
      return undefined;
    }
  }

  /**
   * Without the shell function: an interactive subshell that runs the user's rc files, defines the
   * function and only then starts the environment through it. The activation is thus computed
   * from the subshell's own variables, so PATH entries the rc files add are kept (below the
   * environment) and `kill` inside it restores the subshell as its rc files left it.
   */
  private async openSubshell(
    adapter: ShellAdapter,
    target: Target,
    info: EnvInfo,
    asked = false,
  ): Promise<void> {
    const args =
      target.kind === 'local' ? ['start', '--path', target.path, target.name] : ['start', target.name];
    process.stderr.write(
      `blast: opening an activated ${adapter.name} subshell; \`exit\` leaves it.\n` +
        (asked ? '' : `  To activate in your own shell instead: blast init ${adapter.name} --install\n`),
    );
    const status = await runSubshell(
      adapter,
      {
        activation: `blast ${args.map((a) => adapter.quote(a)).join(' ')}\n`,
        bin: join(this.config.root, 'bin', 'run.js'),
        scriptVariable: SCRIPT_VARIABLE,
        shellVariable: SHELL_VARIABLE,
        pidVariable: PID_VARIABLE,
        home: process.env.HOME ?? '',
        env: process.env,
      },
      async (command, argv, environment, dir) => {
        const wrapped = await wrapProcess(this.config, {
          env: info,
          purpose: 'subshell',
          command,
          args: argv,
          cwd: process.cwd(),
          environment,
          readable: [dir],
        });
        return { command: wrapped.command, args: wrapped.args, env: { ...environment, ...wrapped.env } };
      },
    );
    if (status !== 0) this.exit(status);
  }
}
