/**
 * Which environment `blast save` and `blast load` work on: `--env NAME`, `--path DIR`, or else
 * the one active in this shell (Blast's shell state, then VIRTUAL_ENV).
 */
import { BlastError, ExitCode } from '../cli/errors.js';
import { envNameProblem } from './names.js';
import { type Context, type Loaded, loadEnv, resolveTarget } from './environments.js';
import { activePath } from './listing.js';
import { readEnvConfig, infoOf } from './config.js';

export async function snapshotTarget(flags: { env?: string; path?: string }, ctx: Context): Promise<Loaded> {
  if (flags.env !== undefined && flags.path !== undefined) {
    throw new BlastError('Give --env or --path, not both.', ExitCode.usage);
  }
  if (flags.env !== undefined || flags.path !== undefined) {
    const target = resolveTarget(flags.env, flags.path, ctx);
    const loaded = await loadEnv(target);
    if (!loaded) {
      throw new BlastError(`There is no environment ${target.name} (${target.path}).`, ExitCode.notFound);
    }
    return loaded;
  }
  const active = await loadActive(ctx, 'Name a Blast environment with --env NAME or --path DIR.');
  if (!active) {
    throw new BlastError(
      'No environment is active in this shell.',
      ExitCode.usage,
      'Activate one with `blast start NAME`, or name it with --env NAME or --path DIR.',
    );
  }
  return active;
}

/**
 * The environment active in this shell (Blast's shell state, then VIRTUAL_ENV), or undefined when
 * none is. An active venv Blast did not create is an error, with `hint` saying how to name one.
 */
export async function loadActive(ctx: Context, hint: string): Promise<Loaded | undefined> {
  const path = activePath(ctx.env) ?? ctx.env.VIRTUAL_ENV;
  if (!path) return undefined;
  const config = await readEnvConfig(path);
  if (!config)
    throw new BlastError(`The active environment ${path} is not one Blast created.`, ExitCode.usage, hint);
  return { info: infoOf(path, config), config };
}

/** Snapshot names end up as file names: the environment-name rules apply. */
export function assertSnapshotName(name: string): string {
  const problem = envNameProblem(name);
  if (problem) {
    throw new BlastError(
      `Invalid snapshot name ${JSON.stringify(name)}: ${problem}.`,
      ExitCode.usage,
      'Use letters, digits, spaces, "-", "_" or "."; at most 100 characters.',
    );
  }
  return name;
}

/**
 * The default snapshot name: the UTC time to the millisecond, sortable and safe in file names
 * (2026-11-25T19-03-00.123Z).
 */
export function timestampName(date = new Date()): string {
  return date.toISOString().replace(/:/g, '-');
}

/**
 * A default snapshot name no snapshot has (`taken`): the time, then `-2`, `-3`... when two saves
 * fall in one millisecond. The caller holds the environment's lock until the snapshot is written,
 * so the name is still free then: names Blast makes up never collide.
 */
export function freeTimestampName(taken: (name: string) => boolean, date = new Date()): string {
  const base = timestampName(date);
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}-${i}`)) return `${base}-${i}`;
}
