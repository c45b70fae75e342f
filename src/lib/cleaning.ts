/**
 * The core's share of `blast clean`: what a crash or a deleted folder leaves behind. Each action
 * says what goes and why, so `--dry-run` can show it, and is idempotent.
 */
import { rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CleanAction } from './hooks.js';
import { pathExists } from './path-exists.js';
import { diskUsage } from './disk-usage.js';
import { type Env, envsDir } from './paths.js';
import { registryFile, withRegistry } from './registry.js';
import { staleSeedTemps, staleTemps } from './venv/index.js';

/** proper-lockfile refreshes a held lock's mtime; this old, its holder is dead. */
const STALE_LOCK_MS = 30_000;

async function age(path: string): Promise<number | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st ? Date.now() - st.mtimeMs : undefined;
}

export async function coreCleanActions(env: Env): Promise<CleanAction[]> {
  const actions: CleanAction[] = [];
  const lock = `${registryFile(env)}.lock`;
  const lockAge = await age(lock);
  if (lockAge !== undefined && lockAge > STALE_LOCK_MS) {
    actions.push({
      what: lock,
      why: `stale registry lock (untouched for ${Math.round(lockAge / 1000)} s, its process is gone)`,
      run: () => rm(lock, { recursive: true, force: true }),
    });
  }

  // Half-made environments and seed builds whose creating process died (their names carry its pid).
  for (const path of [...staleTemps(envsDir(env)), ...staleSeedTemps(env)]) {
    actions.push({
      what: path,
      why: 'left by an interrupted environment creation',
      bytes: await diskUsage(path),
      run: () => rm(path, { recursive: true, force: true }),
    });
  }

  // Skip the registry while its lock is stale: withRegistry would wait for it.
  if (!actions.some((a) => a.what === lock)) {
    const records = await withRegistry(env, (tx) => tx.all());
    const localParents = new Set(records.filter((r) => r.kind === 'local').map((r) => dirname(r.path)));
    for (const parent of localParents) {
      for (const path of staleTemps(parent)) {
        actions.push({
          what: path,
          why: 'left by an interrupted environment creation',
          run: () => rm(path, { recursive: true, force: true }),
        });
      }
    }
    for (const record of records) {
      if (await pathExists(record.path)) continue;
      actions.push({
        what: `registry entry ${record.name}`,
        why: `${record.path} no longer exists`,
        run: async () => void (await withRegistry(env, (tx) => tx.remove(record.path))),
      });
    }
  }
  return actions;
}

/** Remove a named environment: its folder, then its registry entry. */
export async function removeEnvironment(env: Env, path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await withRegistry(env, (tx) => tx.remove(path));
}
