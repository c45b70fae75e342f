/**
 * The core's share of `blast clean`: what a crash or a deleted folder leaves behind. Each action
 * says what goes and why, so `--dry-run` can show it, and is idempotent.
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CleanAction } from './hooks.js';
import { pathExists } from './path-exists.js';
import { diskUsage } from './disk-usage.js';
import { type Env, envsDir } from './paths.js';
import {
  breakStaleLock,
  type EnvRecord,
  readRegistryQuietly,
  registryLockFile,
  withRegistry,
} from './registry.js';
import { staleSeedTemps, staleTemps } from './venv/index.js';
import { formatBytes } from './disk-usage.js';
import { ObjectStore, planStoreGc, pruneRevisionDir, removeObjects, removeTemps } from './store/index.js';

/**
 * The store's share (see store/gc.ts): revisions beyond retention (or of vanished environments),
 * then objects nothing refers to, then temporary files of killed processes.
 */
export function storeCleanActions(env: Env, options: { keepRevisions?: number } = {}): CleanAction[] {
  const store = ObjectStore.of(env);
  const plan = planStoreGc(store, env, options.keepRevisions);
  const actions: CleanAction[] = [];
  for (const prune of plan.prunes) {
    const list =
      prune.numbers.length > 3
        ? `${prune.numbers.length} revisions (${prune.numbers[0]} to ${prune.numbers.at(-1)})`
        : `revision${prune.numbers.length > 1 ? 's' : ''} ${prune.numbers.join(', ')}`;
    actions.push({
      what: `${list} of ${prune.env}`,
      why: prune.envGone
        ? 'the environment no longer exists'
        : `beyond the newest ${plan.keep} (--keep-revisions or BLAST_KEEP_REVISIONS) and in no snapshot`,
      run: async () => pruneRevisionDir(prune),
    });
  }
  if (plan.objects.length > 0) {
    const bytes = plan.objects.reduce((n, o) => n + o.bytes, 0);
    actions.push({
      what: `${plan.objects.length} store object(s)`,
      why:
        `no snapshot, revision or journal refers to them; the store goes from ` +
        `${formatBytes(plan.storeBytes)} to ${formatBytes(plan.storeBytes - bytes)}`,
      bytes,
      run: async () => void removeObjects(store, env, plan.objects),
    });
  }
  if (plan.temps.length > 0) {
    actions.push({
      what: `${plan.temps.length} temporary file(s) in the store`,
      why: 'left by Blast processes that were killed while writing',
      run: async () => removeTemps(plan.temps),
    });
  }
  return actions;
}

export interface CleanPlan {
  actions: CleanAction[];
  /** The registry's records, read once for the core's actions and for plugins' `clean`. */
  records: EnvRecord[];
}

/**
 * What `blast clean` would remove. Planning changes nothing, so `--dry-run` can stop after it:
 * in particular it never takes over a stale registry lock (see readRegistryQuietly).
 */
export async function planCoreClean(env: Env, options: { keepRevisions?: number } = {}): Promise<CleanPlan> {
  const actions: CleanAction[] = [];
  // Stale by the registry's own rule: its owner is gone (what the next registry access takes over).
  const { records, staleLock } = await readRegistryQuietly(env);
  if (staleLock) {
    const lock = registryLockFile(env);
    actions.push({
      what: lock,
      why:
        `stale registry lock (untouched for ${Math.round(staleLock.ageMs / 1000)} s; ` +
        (staleLock.pid !== undefined
          ? `left by pid ${staleLock.pid}, which is gone)`
          : 'it names no owner: an older Blast left it)'),
      // False when a running blast took it over meanwhile: that removed the stale lock too.
      run: async () => void (await breakStaleLock(env)),
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
  actions.push(...storeCleanActions(env, options));
  return { actions, records };
}

/** Remove a named environment: its folder, then its registry entry. */
export async function removeEnvironment(env: Env, path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await withRegistry(env, (tx) => tx.remove(path));
}
