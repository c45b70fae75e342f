/** The data behind `blast list`: the registry, with what the disk and this shell say about each entry. */
import { withSettings } from './config.js';
import { activeState, type Vars } from '../shell/activation.js';
import { diskUsage } from './disk-usage.js';
import type { EnvRecord } from './registry.js';
import { withRegistry } from './registry.js';
import type { Env } from '../paths.js';
import type { Interfaces } from '@oclif/core';
import type { EnvInfo, EnvStatus } from '../plugin-host/contract.js';
import { pathExists } from '../fs/path-exists.js';
import { runPhase } from '../plugin-host/events.js';
import { ObjectStore, storeDir } from '../store/objects.js';
import { backfillBytes, listRevisions } from '../store/revisions.js';

/**
 * How `blast list` gets sizes: `recorded` (the default) from what Blast already knows — the
 * revision it recorded last, whose summary keeps its distributions' bytes — so a hundred
 * environments cost what one does; `measured` walks each tree (`--size`, exact disk usage, hard
 * links counted once); `none` skips them.
 */
export type SizeMode = 'recorded' | 'measured' | 'none';

export interface Listed extends EnvRecord {
  /** Plugin settings from its blast.json (API 1.2). */
  settings: EnvInfo['settings'];
  active: boolean;
  missing: boolean;
  bytes?: number;
  /** Where `bytes` came from: the last revision's record, or a walk of the tree. */
  sizeFrom?: 'recorded' | 'measured';
  /** Installed distributions, as of the last revision (absent when none was recorded). */
  packages?: number;
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

/** The last revision's summary; an unreadable history reads as none (list never fails on it). */
function lastRecorded(store: ObjectStore, envPath: string) {
  try {
    return listRevisions(store, envPath).at(-1);
  } catch {
    return undefined;
  }
}

export async function listEnvironments(
  env: Env,
  options: { size: SizeMode; config?: Interfaces.Config },
): Promise<Listed[]> {
  const records = await withSettings(await withRegistry(env, (tx) => tx.all()));
  const active = activePath(env);
  const store = new ObjectStore(storeDir(env));
  const listed = await Promise.all(
    records.map(async (record) => {
      const missing = !(await pathExists(record.path));
      const entry: Listed = { ...record, active: record.path === active, missing, plugins: {} };
      if (missing) return entry;
      const latest = options.size === 'none' ? undefined : lastRecorded(store, record.path);
      if (latest) entry.packages = latest.distributions.length;
      // A revision recorded before sizes were kept: its manifest has every file's size (one read,
      // not a walk, and kept in the index for the next call). Only an environment with no
      // revision at all is walked.
      const bytes =
        options.size === 'recorded' && latest
          ? (latest.bytes ?? backfillBytes(store, record.path, latest.n))
          : undefined;
      if (bytes !== undefined) {
        entry.bytes = bytes;
        entry.sizeFrom = 'recorded';
      } else if (options.size !== 'none') {
        entry.bytes = await diskUsage(record.path);
        entry.sizeFrom = 'measured';
      }
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
