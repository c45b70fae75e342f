/**
 * What Blast keeps about one environment, inside the environment (`<env>/blast.json`), so that
 * starting an existing environment reads one small file and never the registry, and so that a
 * copied or moved environment carries its settings along.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EnvInfo, SettingValue } from '../plugin-host/contract.js';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { withLockAsync } from '../fs/lock.js';
import { envStateDir } from '../store/journal-files.js';

export const CONFIG_FILE = 'blast.json';

export interface EnvConfig {
  v: 1;
  name: string;
  kind: EnvInfo['kind'];
  python: EnvInfo['python'];
  createdAt: string;
  /** Variables every activation exports (`blast start --env`). */
  variables: Record<string, string>;
  /** Plugin settings (`blast start --<setting>`, `blast config`); absent in files older than API 1.2. */
  settings?: Record<string, SettingValue>;
  /**
   * A venv another tool made, taken in by `blast start`: which tool (from its pyvenv.cfg), when,
   * and the files Blast added to it (nothing of the venv's own was changed).
   */
  adopted?: { madeBy: string; at: string; added: string[] };
}

/** A value no process environment can carry: exec's environment is NUL-terminated strings. */
export function nulProblem(variable: string, value: string): string | undefined {
  if (variable.includes('\0'))
    return `the name of variable ${JSON.stringify(variable)} contains a NUL character`;
  if (value.includes('\0'))
    return `variable ${variable} contains a NUL character, which no process environment can hold`;
  return undefined;
}

/** Why a parsed blast.json is not one Blast can use, or undefined when it is. */
function configProblem(c: Partial<EnvConfig> | null | undefined): string | undefined {
  const valid =
    !!c &&
    c.v === 1 &&
    typeof c.name === 'string' &&
    (c.kind === 'named' || c.kind === 'local') &&
    typeof c.python?.executable === 'string' &&
    typeof c.python?.version === 'string' &&
    typeof c.createdAt === 'string' &&
    typeof c.variables === 'object' &&
    c.variables !== null &&
    Object.values(c.variables).every((v) => typeof v === 'string') &&
    (c.settings === undefined || validSettings(c.settings));
  if (!valid) return 'it is not what Blast writes';
  for (const [name, value] of Object.entries(c.variables!)) {
    const problem = nulProblem(name, value);
    if (problem) return problem;
  }
  return undefined;
}

function validSettings(settings: unknown): settings is Record<string, SettingValue> {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return false;
  return Object.values(settings).every(
    (v) =>
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (Array.isArray(v) && v.every((item) => typeof item === 'string')),
  );
}

type Parsed = { config: EnvConfig } | { problem: string; raw: unknown } | undefined;

/** The file parsed, or why it cannot be used (with whatever JSON could be read); undefined: none. */
async function parseEnvConfig(envPath: string): Promise<Parsed> {
  let text: string;
  try {
    text = await readFile(join(envPath, CONFIG_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BlastError(`Cannot read ${join(envPath, CONFIG_FILE)}: ${messageOf(error)}`);
  }
  let parsed: Partial<EnvConfig> | undefined;
  try {
    parsed = JSON.parse(text) as Partial<EnvConfig>;
  } catch {
    return { problem: 'it is not JSON', raw: undefined };
  }
  const problem = configProblem(parsed);
  return problem ? { problem, raw: parsed } : { config: parsed as EnvConfig };
}

/** The config of the environment at `envPath`; undefined when it has none (not made by Blast). */
export async function readEnvConfig(envPath: string): Promise<EnvConfig | undefined> {
  const parsed = await parseEnvConfig(envPath);
  if (!parsed) return undefined;
  if ('config' in parsed) return parsed.config;
  throw new BlastError(
    `${join(envPath, CONFIG_FILE)} is damaged: ${parsed.problem}.`,
    ExitCode.failure,
    '`blast check --fix` rewrites it from what the registry knows, keeping the variables and settings that are still readable.',
  );
}

/**
 * For `blast check`: a damaged blast.json (undefined when it is sound or absent), and the file
 * `--fix` would write instead: built from what the registry knows of the environment, keeping the
 * readable variables (those a process environment can hold) and settings.
 */
export async function damagedEnvConfig(
  record: Omit<EnvInfo, 'settings'> & { createdAt: string },
): Promise<{ problem: string; rebuilt: EnvConfig; dropped: string[] } | undefined> {
  const parsed = await parseEnvConfig(record.path);
  if (!parsed || 'config' in parsed) return undefined;
  const raw = (typeof parsed.raw === 'object' && parsed.raw !== null ? parsed.raw : {}) as Record<
    string,
    unknown
  >;
  const variables: Record<string, string> = {};
  const dropped: string[] = [];
  const rawVariables = raw.variables;
  if (typeof rawVariables === 'object' && rawVariables !== null && !Array.isArray(rawVariables))
    for (const [name, value] of Object.entries(rawVariables as Record<string, unknown>)) {
      if (typeof value === 'string' && !nulProblem(name, value)) variables[name] = value;
      else dropped.push(/^\w+$/.test(name) ? name : JSON.stringify(name));
    }
  const rebuilt: EnvConfig = {
    v: 1,
    name: record.kind === 'named' ? basename(record.path) : record.name,
    kind: record.kind,
    python: record.python,
    createdAt: typeof raw.createdAt === 'string' ? raw.createdAt : record.createdAt,
    variables,
    ...(validSettings(raw.settings) && Object.keys(raw.settings).length ? { settings: raw.settings } : {}),
  };
  return { problem: parsed.problem, rebuilt, dropped };
}

/** Write atomically: a reader sees the old file or the new one. */
export async function writeEnvConfig(envPath: string, config: EnvConfig): Promise<void> {
  // Private (0600): the variables in it may be secrets (see file-modes.ts).
  writeFileAtomic(join(envPath, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

/**
 * Change the environment's config: `change` gets the file as it is now, read under the config
 * lock, and returns the new config (undefined: leave it). Every read-modify-write of blast.json
 * goes through here, so concurrent `blast start NAME --env K=V` each keep their variable. A lock
 * of its own, not the environment's: a pip transaction holds that for minutes, and a start does
 * not need to wait for pip to add a variable. Returns the config as it is afterwards, undefined
 * when there is none.
 */
export async function changeEnvConfig(
  envPath: string,
  change: (config: EnvConfig) => EnvConfig | undefined,
): Promise<EnvConfig | undefined> {
  return underConfigLock(envPath, async () => {
    const config = await readEnvConfig(envPath);
    if (!config) return undefined;
    const next = change(config);
    if (next === undefined) return config;
    await writeEnvConfig(envPath, next);
    return next;
  });
}

/**
 * Write the config of a venv Blast takes in, unless another start wrote one meanwhile: the config
 * the environment has afterwards, and whether it is this one.
 */
export async function adoptEnvConfig(
  envPath: string,
  config: EnvConfig,
): Promise<{ config: EnvConfig; written: boolean }> {
  return underConfigLock(envPath, async () => {
    const theirs = await readEnvConfig(envPath);
    if (theirs) return { config: theirs, written: false };
    await writeEnvConfig(envPath, config);
    return { config, written: true };
  });
}

/**
 * Replace the environment's config whole, without reading it first (`check --fix` rewriting a
 * damaged one, which cannot be read), under the same lock as every other change.
 */
export async function replaceEnvConfig(envPath: string, config: EnvConfig): Promise<void> {
  await underConfigLock(envPath, () => writeEnvConfig(envPath, config));
}

function underConfigLock<T>(envPath: string, fn: () => Promise<T>): Promise<T> {
  return withLockAsync(join(envStateDir(envPath), 'config.lock'), fn, {
    what: `changing ${join(envPath, CONFIG_FILE)}`,
    waitMs: 60_000,
    reentrant: false,
  });
}

export function infoOf(path: string, config: EnvConfig): EnvInfo {
  return {
    // A named environment is named by its folder: a copy's blast.json still says the original's
    // name until `blast check --fix` rewrites it.
    name: config.kind === 'named' ? basename(path) : config.name,
    path,
    kind: config.kind,
    python: config.python,
    settings: config.settings ?? {},
  };
}

/**
 * Registry records with each environment's settings from its blast.json, for the events that
 * take several environments (list, check, clean). An unreadable blast.json gives no settings:
 * `check` reports the file itself.
 */
export async function withSettings<T extends Omit<EnvInfo, 'settings'>>(
  records: readonly T[],
): Promise<Array<T & Pick<EnvInfo, 'settings'>>> {
  return Promise.all(
    records.map(async (record) => {
      const config = await readEnvConfig(record.path).catch(() => undefined);
      return { ...record, settings: config?.settings ?? {} };
    }),
  );
}
