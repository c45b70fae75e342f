/**
 * What Blast keeps about one environment, inside the environment (`<env>/blast.json`), so that
 * starting an existing environment reads one small file and never the registry, and so that a
 * copied or moved environment carries its settings along.
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EnvInfo, SettingValue } from './hooks.js';
import { BlastError, ExitCode, messageOf } from './errors.js';
import { PRIVATE_FILE_MODE } from './file-modes.js';

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
}

function isValid(c: Partial<EnvConfig> | null | undefined): c is EnvConfig {
  return (
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
    (c.settings === undefined || validSettings(c.settings))
  );
}

function validSettings(settings: unknown): boolean {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return false;
  return Object.values(settings).every(
    (v) =>
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (Array.isArray(v) && v.every((item) => typeof item === 'string')),
  );
}

/** The config of the environment at `envPath`; undefined when it has none (not made by Blast). */
export async function readEnvConfig(envPath: string): Promise<EnvConfig | undefined> {
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
    parsed = undefined;
  }
  if (!isValid(parsed)) {
    throw new BlastError(
      `${join(envPath, CONFIG_FILE)} is damaged.`,
      ExitCode.failure,
      '`blast check --fix` rewrites it from pyvenv.cfg.',
    );
  }
  return parsed;
}

/** Write atomically: a reader sees the old file or the new one. */
export async function writeEnvConfig(envPath: string, config: EnvConfig): Promise<void> {
  const file = join(envPath, CONFIG_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  // 0600: the variables in it may be secrets (see file-modes.ts). The chmod covers a temp a
  // killed process left under this name, whose mode writeFile would keep.
  await writeFile(temp, JSON.stringify(config, null, 2) + '\n', { mode: PRIVATE_FILE_MODE });
  await chmod(temp, PRIVATE_FILE_MODE);
  await rename(temp, file);
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
