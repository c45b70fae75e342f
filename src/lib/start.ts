/**
 * `blast start`: find or create the environment, let plugins veto and contribute, then either hand
 * the shell function its activation (a script it sources) or open an activated subshell. The
 * command only parses and calls this; the lean path of bin/run.js calls it too, without oclif.
 */
import type { Interfaces } from '@oclif/core';
import { join, resolve } from 'node:path';
import { adopt, isForeignVenv, planAdoption } from './envs/adopt.js';
import { checkProjectFile, findProject, writeProjectFile } from './envs/project.js';
import { assertActivationFits, startChange } from './shell/activation.js';
import { AUTO_VARIABLE } from './shell/auto.js';
import {
  createEnv,
  ensureRegistered,
  type Loaded,
  loadEnv,
  planCreation,
  resolveTarget,
  type Target,
  updateEnvConfig,
} from './envs/environments.js';
import type { EnvInfo, ShellAdapter } from './plugin-host/contract.js';
import { parseEnvAssignments, parseEnvRemovals } from './envs/names.js';
import { runPhase } from './plugin-host/events.js';
import { chooseShell, findShell } from './shell/adapters.js';
import { PID_VARIABLE, shellPid as shellPidOf } from './shell/pid.js';
import { SCRIPT_VARIABLE, SHELL_VARIABLE, shellFunction, writeShellScript } from './shell/script.js';
import { runSubshell } from './shell/subshell.js';
import { collectActivation } from './plugin-host/activation-contributions.js';
import { BlastError, ExitCode, messageOf } from './cli/errors.js';
import { ensureShim } from './transaction/shim.js';
import { mergeSettings, parseGiven, type OwnedSpec } from './plugin-host/settings.js';
import { wrapProcess } from './plugin-host/wrap.js';
import { hasJournal, looksHalfRestored } from './store/journal-files.js';
import { assertRunnable } from './envs/health.js';
import { pausePoint } from './store/crash.js';

type Config = Interfaces.Config;

/** What `blast start` was asked, parsed. */
export interface StartRequest {
  name?: string;
  path?: string;
  python?: string;
  env?: readonly string[];
  unsetEnv?: readonly string[];
  shell?: string;
  /** Plugins' settings known to this run, and those given on the command line in flag order. */
  specs?: readonly OwnedSpec[];
  given?: Array<[string, string | boolean]>;
  /** Write ./.blast-env naming this environment (`--here`); `force` replaces one naming another. */
  here?: boolean;
  force?: boolean;
  /** `--auto-project DIR`, from the --auto prompt hook: the activation carries the project it is for. */
  autoProject?: string;
}

export interface StartHost {
  config: Config;
  warn(message: string): void;
}

/** The settings given on the command line, as `[name, value]` pairs in flag order. */
export function givenSettings(
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

/**
 * Start an environment; resolves to the exit status the command ends with (a subshell's own, or 0
 * once the shell function has its script).
 */
export async function startEnvironment(host: StartHost, request: StartRequest): Promise<number> {
  const { config, warn } = host;
  const env = process.env;
  const ctx = { env, cwd: process.cwd() };
  const assignments = parseEnvAssignments([...(request.env ?? [])]);
  const removals = parseEnvRemovals([...(request.unsetEnv ?? [])]);
  const target = startTarget(request, ctx);
  // `--here`: a .blast-env naming another environment is refused before anything is done.
  const here = request.here
    ? checkProjectFile(ctx.cwd, hereName(request), request.force === true)
    : undefined;
  const through = shellFunction(env);
  // Through the function, the function's shell is the one to render for, whatever --shell says.
  const chosen = through
    ? { adapter: await findShell(config, through.shell) }
    : await chooseShell(config, env, request.shell);
  if (!chosen) throw new BlastError('Cannot tell which shell you use; pass --shell.', ExitCode.usage);
  const { adapter } = chosen;
  // The activation lives as long as the shell that runs the function, which passes its own pid
  // (never process.ppid: a CLI whose shell was killed is re-parented). Checked before anything is
  // written. Without the function, the subshell's own start is the one that activates; this
  // process is what preStart sees.
  const shellPid = through ? shellPidOf(env, through.shell) : process.pid;

  // A venv another tool made is taken in (checked and probed here, written after preStart).
  const adoption = isForeignVenv(target.path) ? await planAdoption(target, ctx) : undefined;
  let loaded = adoption ? undefined : await loadEnv(target, env);
  if (loaded) await ensureRegistered(loaded, env);
  const planned = loaded || adoption ? undefined : await planCreation(target, request.python, ctx);
  const existing = loaded ?? adoption;
  if (existing && request.python) await checkPython(existing.info, request.python, warn);
  if (loaded) assertRunnable(loaded.info);
  if (loaded && (hasJournal(loaded.info.path, env) || looksHalfRestored(loaded.info.path, env)))
    await recover(loaded.info, warn);
  const info = existing?.info ?? planned!.info;
  const given = request.given ?? [];
  const settings =
    given.length || !loaded
      ? mergeSettings(loaded?.config.settings ?? {}, parseGiven([...(request.specs ?? [])], given))
      : undefined;
  if (settings) info.settings = settings;
  pausePoint('start-activate');
  const event = { env: info, creating: planned !== undefined, shell: adapter.name, shellPid };
  await runPhase(config, 'preStart', event, 'veto');

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
    if (adoption) loaded = await adopt(adoption, ctx);
    loaded = await updateEnvConfig(loaded!, assignments, removals, settings);
  }
  if (here === false) {
    const file = await writeProjectFile(ctx.cwd, loaded.info.name);
    process.stderr.write(
      `blast: ${file} names ${loaded.info.name}: plain \`blast start\` here and below uses it\n`,
    );
  }

  if (!through) return openSubshell(config, adapter, target, loaded.info);
  const contributions = await collectActivation(config, event);
  if (contributions.subshell) {
    // This shell cannot hold the activation (e.g. it must run in a sandbox): a subshell that
    // can opens instead, and this shell's part in the activation ends when it exits.
    process.stderr.write(`blast: ${contributions.subshell}\n`);
    for (const note of contributions.notes) process.stderr.write(`${note}\n`);
    try {
      return await openSubshell(config, adapter, target, loaded.info, true);
    } finally {
      const ended = { env: loaded.info, force: false, shellPid };
      await runPhase(config, 'preKill', ended, 'inform');
      await runPhase(config, 'postKill', ended, 'inform');
    }
  }
  const change = startChange(env, {
    env: loaded.info,
    variables: loaded.config.variables,
    ...contributions,
    ...(request.autoProject
      ? { extraVariables: { ...contributions.extraVariables, [AUTO_VARIABLE]: request.autoProject } }
      : {}),
    shim: pipShim(config, loaded, warn),
  });
  writeShellScript(through.script, adapter.render(change));
  for (const note of contributions.notes) process.stderr.write(`${note}\n`);
  await runPhase(config, 'postStart', event, 'inform');
  return 0;
}

/**
 * Which environment: a name, a --path, or else the project's (see project.ts), said on stderr
 * when it is not the current directory's own .venv; with no project, ./.venv (created if missing).
 */
function startTarget(request: StartRequest, ctx: { env: NodeJS.ProcessEnv; cwd: string }): Target {
  if (request.name !== undefined || request.path !== undefined)
    return resolveTarget(request.name, request.path, ctx);
  const project = findProject(ctx.cwd, ctx.env);
  if (project?.kind === 'named') {
    process.stderr.write(`blast: using ${project.name}, which ${project.file} names\n`);
    return resolveTarget(project.name, undefined, ctx);
  }
  if (project?.kind === 'venv' && project.dir !== resolve(ctx.cwd)) {
    process.stderr.write(`blast: using the project's environment ${project.venv}\n`);
    return resolveTarget(undefined, project.venv, ctx);
  }
  return resolveTarget(undefined, undefined, ctx);
}

/** The name `--here` writes: a named environment's. */
function hereName(request: StartRequest): string {
  if (request.name === undefined || request.path !== undefined)
    throw new BlastError(
      '--here writes the name of a named environment into ./.blast-env: give a NAME, without --path.',
      ExitCode.usage,
      'For example: blast start api --here',
    );
  return request.name;
}

/** `--python` for an environment that exists: it must agree with the Python the env was made with. */
async function checkPython(info: EnvInfo, spec: string, warn: (message: string) => void): Promise<void> {
  const { versionSatisfies } = await import('./python/index.js');
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

/**
 * A change a kill -9 left half done (a restore, a pip transaction) is finished or undone before
 * the environment is activated; one still running is only reported. The store is loaded only
 * when a journal says there is something to do.
 */
async function recover(info: EnvInfo, warn: (message: string) => void): Promise<void> {
  const { recoverAll } = await import('./store/recover.js');
  const recovery = recoverAll(info.path, { env: process.env });
  if (recovery.busy) warn(recovery.busy);
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
function pipShim(config: Config, { info }: Loaded, warn: (message: string) => void): string | undefined {
  try {
    return ensureShim(info.python.version, process.execPath, join(config.root, 'bin', 'run.js'));
  } catch (error) {
    warn(`pip runs without Blast transactions: cannot write the pip shim (${messageOf(error)}).`);
    return undefined;
  }
}

/**
 * Without the shell function: an interactive subshell that runs the user's rc files, defines the
 * function and only then starts the environment through it. The activation is thus computed
 * from the subshell's own variables, so PATH entries the rc files add are kept (below the
 * environment) and `kill` inside it restores the subshell as its rc files left it.
 */
async function openSubshell(
  config: Config,
  adapter: ShellAdapter,
  target: Target,
  info: EnvInfo,
  asked = false,
): Promise<number> {
  const args =
    target.kind === 'local' ? ['start', '--path', target.path, target.name] : ['start', target.name];
  process.stderr.write(
    `blast: opening an activated ${adapter.name} subshell; \`exit\` leaves it.\n` +
      (asked ? '' : `  To activate in your own shell instead: blast init ${adapter.name} --install\n`),
  );
  return runSubshell(
    adapter,
    {
      activation: `blast ${args.map((a) => adapter.quote(a)).join(' ')}\n`,
      bin: join(config.root, 'bin', 'run.js'),
      scriptVariable: SCRIPT_VARIABLE,
      shellVariable: SHELL_VARIABLE,
      pidVariable: PID_VARIABLE,
      home: process.env.HOME ?? '',
      env: process.env,
    },
    async (command, argv, environment, dir) => {
      const wrapped = await wrapProcess(config, {
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
}
