/**
 * Environments as users name them: `blast start NAME` (under BLAST_HOME/envs), `blast start
 * --path DIR` (project-local), or plain `blast start` (the project's `.venv`, like uv).
 */
import { basename, dirname, join, resolve } from 'node:path';
import type { EnvInfo, SettingValue } from './hooks.js';
import { sameSettings } from './settings.js';
import { pathExists } from './path-exists.js';
import { BlastError, ExitCode, messageOf } from './errors.js';
import { assertEnvName } from './names.js';
import { realPath } from './real-path.js';
import { type Env, envsDir } from './paths.js';
import { type EnvConfig, infoOf, readEnvConfig, writeEnvConfig } from './env-config.js';
import { withRegistry } from './registry.js';
import type { Interpreter } from './python/index.js';

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

/** The environment at `target`, or undefined when there is none yet. */
export async function loadEnv(target: Target): Promise<Loaded | undefined> {
  const config = await readEnvConfig(target.path);
  if (config) return { info: infoOf(target.path, config), config };
  if (!(await pathExists(target.path))) return undefined;
  if (await pathExists(join(target.path, 'pyvenv.cfg'))) {
    throw new BlastError(
      `${target.path} is a virtual environment Blast did not create.`,
      ExitCode.usage,
      'Blast manages only environments it creates; pick another --path or name.',
    );
  }
  throw new BlastError(
    `${target.path} exists and is not a Blast environment; nothing was changed.`,
    ExitCode.usage,
  );
}

/** Find the interpreter first: a bad --python must fail before anything is written. */
export async function planCreation(
  target: Target,
  pythonSpec: string | undefined,
  ctx: Context,
): Promise<Planned> {
  // Loaded only when creating: starting an existing environment needs neither.
  const { findPython } = await import('./python/index.js');
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
 * Create the venv, its config and its registry entry. The venv appears atomically; if another
 * `blast start` created it meanwhile, theirs is used. A registry failure removes nothing the
 * user had: the environment is there and `blast check --fix` registers it.
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
  const { createVenv } = await import('./venv/index.js');
  try {
    await createVenv(info.path, python, {
      prompt: info.name,
      env: ctx.env,
      // The config goes in before the venv appears, so no reader sees a venv without it.
      extraFiles: { 'blast.json': JSON.stringify(config, null, 2) + '\n' },
    });
  } catch (error) {
    const theirs = await readEnvConfig(info.path).catch(() => undefined);
    if (theirs) return { info: infoOf(info.path, theirs), config: theirs };
    throw error;
  }
  try {
    await withRegistry(ctx.env, (tx) => tx.put({ ...info, createdAt: config.createdAt }));
  } catch (error) {
    process.stderr.write(
      `blast: warning: ${info.name} was created but not registered: ${messageOf(error)}\n`,
    );
  }
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
  const variables = { ...loaded.config.variables, ...assignments };
  for (const name of removals) delete variables[name];
  const changed =
    Object.entries(assignments).some(([k, v]) => loaded.config.variables[k] !== v) ||
    removals.some((name) => name in loaded.config.variables) ||
    (settings !== undefined && !sameSettings(settings, loaded.config.settings ?? {}));
  if (!changed) return loaded;
  const config: EnvConfig = { ...loaded.config, variables };
  if (settings !== undefined) {
    if (Object.keys(settings).length) config.settings = settings;
    else delete config.settings;
  }
  await writeEnvConfig(loaded.info.path, config);
  return { info: infoOf(loaded.info.path, config), config };
}
