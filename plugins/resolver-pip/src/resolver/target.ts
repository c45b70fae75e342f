/**
 * Which environment a plugin command is about, found the way the core finds it (a plugin may not
 * import the core): `--path DIR`, `--env NAME` under BLAST_HOME/envs, else the active one
 * (VIRTUAL_ENV). Its settings come from its blast.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Settings } from 'blast/contract';

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function blastHome(env: Env): string {
  if (env.BLAST_HOME) return resolve(env.BLAST_HOME);
  const data = env.XDG_DATA_HOME?.startsWith('/')
    ? env.XDG_DATA_HOME
    : join(env.HOME || homedir(), '.local', 'share');
  return join(data, 'blast');
}

export interface Target {
  name: string;
  path: string;
  /** X.Y.Z when blast.json says, for site-packages. */
  pythonVersion?: string;
  settings: Settings;
  /** Whether Blast made it (has a blast.json). */
  blast: boolean;
}

function nameProblem(name: string): string | undefined {
  if (
    name === '' ||
    name.includes('/') ||
    name.includes('..') ||
    name.startsWith('-') ||
    name.startsWith('.')
  )
    return 'not an environment name';
  return undefined;
}

export function findTarget(flags: { env?: string; path?: string }, env: Env, cwd: string): Target {
  let path: string;
  if (flags.path !== undefined && flags.env !== undefined)
    throw new UserError('Give --env or --path, not both.', 2);
  if (flags.path !== undefined) path = resolve(cwd, flags.path);
  else if (flags.env !== undefined) {
    const problem = nameProblem(flags.env);
    if (problem) throw new UserError(`Invalid environment name ${JSON.stringify(flags.env)}: ${problem}.`, 2);
    path = join(blastHome(env), 'envs', flags.env);
    if (!existsSync(path))
      throw new UserError(
        `There is no environment named ${JSON.stringify(flags.env)}.`,
        3,
        'See `blast list`.',
      );
  } else if (env.VIRTUAL_ENV) path = resolve(env.VIRTUAL_ENV);
  else
    throw new UserError(
      'No environment is active.',
      3,
      'Start one with `blast start NAME`, or pass --env NAME or --path DIR.',
    );
  if (!existsSync(join(path, 'bin', 'python')))
    throw new UserError(`${path} is not a Python environment (no bin/python).`, 3, 'See `blast list`.');
  let config:
    { name?: unknown; kind?: unknown; python?: { version?: unknown }; settings?: unknown } | undefined;
  try {
    config = JSON.parse(readFileSync(join(path, 'blast.json'), 'utf8')) as typeof config;
  } catch {
    config = undefined;
  }
  const settings =
    config?.settings && typeof config.settings === 'object' && !Array.isArray(config.settings)
      ? (config.settings as Settings)
      : {};
  return {
    // As in the core: a named environment is named by its folder (a copy's blast.json says otherwise).
    name:
      config?.kind !== 'named' && typeof config?.name === 'string'
        ? config.name
        : (flags.env ?? basename(path)),
    path,
    pythonVersion: typeof config?.python?.version === 'string' ? config.python.version : undefined,
    settings,
    blast: config !== undefined,
  };
}
