/** The data behind `blast list`: the registry, with what the disk and this shell say about each entry. */
import { withSettings } from './env-config.js';
import { activeState, type Vars } from './activation.js';
import { diskUsage } from './disk-usage.js';
import type { EnvRecord } from './registry.js';
import { withRegistry } from './registry.js';
import type { Env } from './paths.js';
import type { Interfaces } from '@oclif/core';
import type { EnvInfo, EnvStatus } from './contract.js';
import { pathExists } from './path-exists.js';
import { runPhase } from './phases.js';

export interface Listed extends EnvRecord {
  /** Plugin settings from its blast.json (API 1.2). */
  settings: EnvInfo['settings'];
  active: boolean;
  missing: boolean;
  bytes?: number;
  /** What plugins report about it (`list` event), by plugin name. */
  plugins: Record<string, EnvStatus['fields']>;
}

/** The environment active in this shell, by path; an unreadable state means none. */
export function activePath(vars: Vars): string | undefined {
  try {
    return activeState(vars)?.env.path;
  } catch {
    return undefined;
  }
}

export async function listEnvironments(
  env: Env,
  options: { size: boolean; config?: Interfaces.Config },
): Promise<Listed[]> {
  const records = await withSettings(await withRegistry(env, (tx) => tx.all()));
  const active = activePath(env);
  const listed = await Promise.all(
    records.map(async (record) => {
      const missing = !(await pathExists(record.path));
      const entry: Listed = { ...record, active: record.path === active, missing, plugins: {} };
      if (options.size && !missing) entry.bytes = await diskUsage(record.path);
      return entry;
    }),
  );
  if (options.config && records.length > 0) {
    const byPath = new Map(listed.map((e) => [e.path, e]));
    const { results } = await runPhase(options.config, 'list', { envs: records }, 'inform');
    for (const { plugin, result } of results) {
      for (const status of Array.isArray(result) ? result : []) {
        const entry = byPath.get(status.path);
        if (entry) entry.plugins[plugin] = status.fields;
      }
    }
  }
  return listed;
}
