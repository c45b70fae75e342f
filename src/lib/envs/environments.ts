/**
 * Environments as users name them: `blast start NAME` (under BLAST_HOME/envs), `blast start
 * --path DIR` (project-local), or plain `blast start` (the project's `.venv`, like uv).
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { EnvInfo, SettingValue } from '../plugin-host/contract.js';
import { sameSettings } from '../plugin-host/settings.js';
import { pathExists } from '../fs/path-exists.js';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { assertEnvName, nameFoldKey } from './names.js';
import { realPath } from '../fs/real-path.js';
import { type Env, envsDir } from '../paths.js';
import { changeEnvConfig, type EnvConfig, infoOf, readEnvConfig } from './config.js';
import { listsPath, withRegistry } from './registry.js';
import { rememberProject } from './known-projects.js';
import { crashPoint, pausePoint } from '../store/crash.js';
import { shellArg } from '../shell/arg.js';
import type { Interpreter } from '../python/index.js';

export interface Target {
  name: string;
  path: string;
  kind: EnvInfo['kind'];
}

export interface Context {
  env: Env;
  cwd: string;
}

/** Where `blast start [name] [--path DIR]` points, validated before anything is touched. */
export function resolveTarget(name: string | undefined, pathFlag: string | undefined, ctx: Context): Target {
  if (pathFlag !== undefined) {
    if (pathFlag.trim() === '') throw new BlastError('--path is empty.', ExitCode.usage);
    const given = resolve(ctx.cwd, pathFlag);
    // A `.venv` is named after its project, like uv and virtualenv prompts do (the project's
    // name as the user reached it).
    const fallback = basename(given) === '.venv' ? basename(dirname(given)) : basename(given);
    return { name: assertEnvName(name ?? (fallback || 'venv')), path: realPath(given), kind: 'local' };
  }
  if (name === undefined) {
    const path = realPath(join(ctx.cwd, '.venv'));
    return { name: assertEnvName(basename(ctx.cwd) || 'venv'), path, kind: 'local' };
  }
  // The envs dir made real (BLAST_HOME may be a symlink), not the environment's own directory.
  return { name: assertEnvName(name), path: join(realPath(envsDir(ctx.env)), name), kind: 'named' };
}

export interface Loaded {
  info: EnvInfo;
  config: EnvConfig;
}

/**
 * Inside a venv whose creation has not registered it yet: created with the venv (so it appears
 * with it, atomically) and removed once the registry has it. A kill -9 between leaves it, and the
 * next command that loads the environment registers it before using it (see loadEnv), so no
 * command uses an environment `blast list` does not show.
 */
export const REGISTERING_MARKER = '.blast-registering';

/** The creation's last step: the registry has the environment. */
export async function finishedRegistering(path: string): Promise<void> {
  await rm(join(path, REGISTERING_MARKER), { force: true });
}

/**
 * Register an environment the registry lacks (a creation a kill -9 interrupted before it
 * registered, an entry lost with a damaged registry or removed while its disk was not mounted);
 * a failure is said, not fatal.
 */
async function completeRegistration(
  loaded: Loaded,
  config: EnvConfig,
  env: Env,
  why = 'whose creation was interrupted',
): Promise<void> {
  try {
    await withRegistry(env, (tx) => tx.put({ ...loaded.info, createdAt: config.createdAt }));
    await finishedRegistering(loaded.info.path);
    process.stderr.write(`blast: registered ${loaded.info.name} (${loaded.info.path}), ${why}\n`);
  } catch (error) {
    process.stderr.write(
      `blast: warning: ${loaded.info.name} is not registered (\`blast list\` does not show it): ${messageOf(error)}\n`,
    );
  }
}

/**
 * For `blast start`, which activates the environment: whatever left it out of the registry, it is
 * registered before it is used, so what `start` uses `blast list` shows. A quick read (no lock),
 * and nothing when it cannot tell (`blast check` reports a damaged registry).
 */
export async function ensureRegistered(loaded: Loaded, env: Env): Promise<void> {
  if ((await listsPath(env, loaded.info.path)) === false)
    await completeRegistration(loaded, loaded.config, env, 'which the registry did not list');
}

/** The environment at `target`, or undefined when there is none yet. */
export async function loadEnv(target: Target, env: Env = process.env): Promise<Loaded | undefined> {
  let config = await readEnvConfig(target.path);
  pausePoint('env-config-read');
  // Another start's new environment can appear (one rename, blast.json inside) between reading
  // its blast.json and looking at the folder: read once more before calling its venv foreign.
  if (!config && (await pathExists(join(target.path, 'pyvenv.cfg'))))
    config = await readEnvConfig(target.path);
  if (config) {
    const loaded = { info: infoOf(target.path, config), config };
    if (await pathExists(join(target.path, REGISTERING_MARKER)))
      await completeRegistration(loaded, config, env);
    return loaded;
  }
  if (!(await pathExists(target.path))) return undefined;
  if (await pathExists(join(target.path, 'pyvenv.cfg'))) {
    throw new BlastError(
      `${target.path} is a virtual environment Blast did not create (and has not taken in yet).`,
      ExitCode.usage,
      `\`blast start ${target.kind === 'named' ? shellArg(target.name) : `--path ${shellArg(target.path)}`}\` takes it in: Blast adds its blast.json, and the venv stays as it is.`,
    );
  }
  throw new BlastError(
    `${target.path} exists and is not a Blast environment; nothing was changed.`,
    ExitCode.usage,
  );
}

/**
 * A new named environment whose name differs from an existing one only in case or Unicode
 * normalization (`Demo` beside `demo`) is refused: on a case-insensitive file system (macOS,
 * Windows, many shares) both are one directory, and in a listing they are easily taken one for
 * the other.
 */
async function refuseLookAlike(name: string, env: Env): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(envsDir(env));
  } catch {
    return; // no environments yet
  }
  const key = nameFoldKey(name);
  const other = entries.find((e) => e !== name && !e.startsWith('.') && nameFoldKey(e) === key);
  if (other === undefined) return;
  throw new BlastError(
    `Cannot create ${JSON.stringify(name)}: an environment ${JSON.stringify(other)} exists, and the two names differ only in case or Unicode form; nothing was created.`,
    ExitCode.usage,
    `Start the existing one with \`blast start ${shellArg(other)}\`, or pick a name that differs in more than case.`,
  );
}

/** Find the interpreter first: a bad --python must fail before anything is written. */
export async function planCreation(
  target: Target,
  pythonSpec: string | undefined,
  ctx: Context,
): Promise<Planned> {
  if (target.kind === 'named') await refuseLookAlike(target.name, ctx.env);
  // Loaded only when creating: starting an existing environment needs neither.
  const { findPython } = await import('../python/index.js');
  const python = await findPython(pythonSpec, { env: ctx.env, cwd: ctx.cwd });
  const info: EnvInfo = {
    name: target.name,
    path: target.path,
    kind: target.kind,
    python: { executable: python.executable, version: python.version, implementation: python.implementation },
    settings: {},
  };
  return { info, python };
}

export interface Planned {
  info: EnvInfo;
  python: Interpreter;
}

/**
 * Create the venv, its config and its registry entry, in two phases: the venv appears atomically
 * with REGISTERING_MARKER inside, then the registry gets it and the marker goes. A kill -9 between
 * is finished by the next command that loads it (or `blast check --fix`). A project environment's
 * path is remembered outside the registry first (known-projects.ts), so a rebuilt registry finds
 * it. If another `blast start` created it meanwhile, theirs is used. A registry failure removes
 * nothing the user had: the environment is there, and the next command registers it.
 */
export async function createEnv(
  { info, python }: Planned,
  variables: Record<string, string>,
  ctx: Context,
  settings: Record<string, SettingValue> = {},
): Promise<Loaded> {
  const config: EnvConfig = {
    v: 1,
    name: info.name,
    kind: info.kind,
    python: info.python,
    createdAt: new Date().toISOString(),
    variables,
    ...(Object.keys(settings).length ? { settings } : {}),
  };
  const { createVenv } = await import('../venv/index.js');
  if (info.kind === 'local') rememberProject(ctx.env, info.path);
  try {
    await createVenv(info.path, python, {
      prompt: info.name,
      env: ctx.env,
      // The config goes in before the venv appears, so no reader sees a venv without it.
      extraFiles: {
        'blast.json': JSON.stringify(config, null, 2) + '\n',
        [REGISTERING_MARKER]: `${process.pid}\n`,
      },
    });
  } catch (error) {
    const theirs = await readEnvConfig(info.path).catch(() => undefined);
    if (!theirs) throw error;
    // Another start created it meanwhile: theirs is used, with this start's variables and
    // settings added to it as a start of an existing environment would.
    const given = Object.keys(settings).length ? { ...(theirs.settings ?? {}), ...settings } : undefined;
    return updateEnvConfig({ info: infoOf(info.path, theirs), config: theirs }, variables, [], given);
  }
  crashPoint('create-registering');
  try {
    await withRegistry(ctx.env, (tx) => tx.put({ ...info, createdAt: config.createdAt }));
    await finishedRegistering(info.path);
  } catch (error) {
    process.stderr.write(
      `blast: warning: ${info.name} was created but not registered: ${messageOf(error)}\n`,
    );
  }
  // Revision 1: the environment as created, so the first change made around the shim (which the
  // daemon records) is revision 2 and can be undone.
  const { recordFirst } = await import('../store/first-revision.js');
  recordFirst(info.path, ctx.env, 'created');
  return { info, config };
}

/**
 * Merge `--env` assignments into the stored variables, drop `--unset-env` ones, and replace the
 * settings when given; the file is written only when something changed.
 */
export async function updateEnvConfig(
  loaded: Loaded,
  assignments: Record<string, string>,
  removals: readonly string[] = [],
  settings?: Record<string, SettingValue>,
): Promise<Loaded> {
  const update = (current: EnvConfig): EnvConfig | undefined => {
    const changed =
      Object.entries(assignments).some(([k, v]) => current.variables[k] !== v) ||
      removals.some((name) => name in current.variables) ||
      (settings !== undefined && !sameSettings(settings, current.settings ?? {}));
    if (!changed) return undefined;
    const variables = { ...current.variables, ...assignments };
    for (const name of removals) delete variables[name];
    const config: EnvConfig = { ...current, variables };
    if (settings !== undefined) {
      if (Object.keys(settings).length) config.settings = settings;
      else delete config.settings;
    }
    return config;
  };
  // Nothing to change as read: no lock, no write (the common `blast start NAME`).
  if (update(loaded.config) === undefined) return loaded;
  // Changed against the file as it is under the lock, not as it was read: another start's
  // variable, written meanwhile, is kept.
  const config = (await changeEnvConfig(loaded.info.path, update)) ?? loaded.config;
  return { info: infoOf(loaded.info.path, config), config };
}
