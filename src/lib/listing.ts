/** The data behind `blast list`: the registry, with what the disk and this shell say about each entry. */
import { stat } from 'node:fs/promises';
import { activeState, type Vars } from './activation.js';
import { diskUsage } from './disk-usage.js';
import type { EnvRecord } from './registry.js';
import { withRegistry } from './registry.js';
import type { Env } from './paths.js';

export interface Listed extends EnvRecord {
  active: boolean;
  missing: boolean;
  bytes?: number;
}

/** The environment active in this shell, by path; an unreadable state means none. */
export function activePath(vars: Vars): string | undefined {
  try {
    return activeState(vars)?.env.path;
  } catch {
    return undefined;
  }
}

export async function listEnvironments(env: Env, options: { size: boolean }): Promise<Listed[]> {
  const records = await withRegistry(env, (tx) => tx.all());
  const active = activePath(env);
  return Promise.all(
    records.map(async (record) => {
      const missing = !(await stat(record.path).catch(() => undefined));
      const listed: Listed = { ...record, active: record.path === active, missing };
      if (options.size && !missing) listed.bytes = await diskUsage(record.path);
      return listed;
    }),
  );
}
