/**
 * The core's share of `blast clean`: what a crash or a deleted folder leaves behind. Each action
 * says what goes and why, so `--dry-run` can show it, and is idempotent.
 */
import type { Interfaces } from '@oclif/core';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gatherItems, runItems } from '../plugin-host/actions.js';
import { withSettings } from './config.js';
import { loadEnv, resolveTarget } from './environments.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { CleanAction } from '../plugin-host/contract.js';
import { activePath } from './listing.js';
import { runPhase } from '../plugin-host/events.js';
import { pathExists } from '../fs/path-exists.js';
import { diskUsage } from './disk-usage.js';
import { type Env, envsDir } from '../paths.js';
import {
  breakStaleLock,
  type EnvRecord,
  readRegistryQuietly,
  registryLockFile,
  withRegistry,
} from './registry.js';
import { staleSeedTemps, staleTemps } from '../venv/index.js';
import { removeEnvTemps, staleEnvTemps } from '../store/env-temps.js';
import { formatBytes } from './disk-usage.js';
import {
  ObjectStore,
  orphanedHistory,
  planStoreGc,
  pruneRevisionDir,
  removeObjects,
  removeTemps,
} from '../store/index.js';

export interface CleanOptions {
  keepRevisions?: number;
  /** Also remove the history of environments whose folder is gone (`--orphaned-history`). */
  orphanedHistory?: boolean;
}

/** What `blast clean` leaves on purpose, said so the user can decide. */
export interface Kept {
  what: string;
  why: string;
}

/** "revisions 1, 2" or "12 revisions (1 to 12)". */
export function revisionList(numbers: readonly number[]): string {
  return numbers.length > 3
    ? `${numbers.length} revisions (${numbers[0]} to ${numbers.at(-1)})`
    : `revision${numbers.length > 1 ? 's' : ''} ${numbers.join(', ')}`;
}

/** Why the history of an environment whose folder is gone is kept (for clean and check alike). */
export const ORPHANED_WHY =
  'its environment folder is gone (removed, or on a disk that is not mounted?); kept until ' +
  '`blast clean --orphaned-history` (or, for a named one, `blast clean NAME --yes`)';

/**
 * The store's share (see store/gc.ts): revisions beyond retention (and, when asked, of vanished
 * environments), then objects nothing refers to, then temporary files of killed processes.
 */
export function storeCleanActions(
  env: Env,
  options: CleanOptions = {},
): { actions: CleanAction[]; kept: Kept[] } {
  const store = ObjectStore.of(env);
  const plan = planStoreGc(store, env, {
    keep: options.keepRevisions,
    orphanedHistory: options.orphanedHistory,
  });
  const actions: CleanAction[] = [];
  const kept: Kept[] = plan.orphans.map((o) => ({
    what: `${revisionList(o.numbers)} of ${o.env}`,
    why: ORPHANED_WHY,
  }));
  for (const prune of plan.prunes) {
    actions.push({
      what: `${revisionList(prune.numbers)} of ${prune.env}`,
      why: prune.envGone
        ? 'the environment folder no longer exists (--orphaned-history)'
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
  return { actions, kept };
}

export interface CleanPlan {
  actions: CleanAction[];
  /** The registry's records, read once for the core's actions and for plugins' `clean`. */
  records: EnvRecord[];
  /** What is left on purpose (the history of vanished environments). */
  kept: Kept[];
}

/**
 * What `blast clean` would remove. Planning changes nothing, so `--dry-run` can stop after it:
 * in particular it never takes over a stale registry lock (see readRegistryQuietly).
 */
export async function planCoreClean(env: Env, options: CleanOptions = {}): Promise<CleanPlan> {
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
    if (await pathExists(record.path)) {
      const temps = staleEnvTemps(record.path);
      if (temps.length > 0)
        actions.push({
          what: `${temps.length} temporary file(s) in ${record.path}`,
          why: 'left by a Blast process killed while it restored files there',
          run: async () => removeEnvTemps(temps),
        });
      continue;
    }
    actions.push({
      what: `registry entry ${record.name}`,
      why: `${record.path} no longer exists`,
      run: async () => void (await withRegistry(env, (tx) => tx.remove(record.path))),
    });
  }
  const store = storeCleanActions(env, options);
  actions.push(...store.actions);
  return { actions, records, kept: store.kept };
}

/**
 * Remove a named environment the user asked to delete: its folder, its registry entry, then its
 * revisions (the user removing it through Blast is the one case its history goes at once; its
 * snapshots stay, as always). A crash between leaves orphaned history, which clean reports.
 */
export async function removeEnvironment(env: Env, path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await withRegistry(env, (tx) => tx.remove(path));
  const orphan = orphanedHistory(ObjectStore.of(env)).find((o) => o.env === path);
  if (orphan) pruneRevisionDir(orphan);
}

/** Whether the store keeps revisions of `path`, whose folder is gone. */
export function hasOrphanedHistory(env: Env, path: string): boolean {
  return orphanedHistory(ObjectStore.of(env)).some((o) => o.env === path);
}

// ---------------------------------------------------------------------------------------------
// Running a clean: the core's plan and the plugins' actions, through the runner check shares.

/** A clean action as `blast clean --json` reports it. */
export interface ReportedClean {
  what: string;
  why: string;
  bytes?: number;
  source: string;
  done: boolean;
  error?: string;
}

export interface CleanReport {
  actions: ReportedClean[];
  kept: Kept[];
}

/** `blast clean` without a name: the core's plan, then the plugins' actions, run unless `dryRun`. */
export async function runClean(
  config: Interfaces.Config,
  env: Env,
  options: CleanOptions & { dryRun: boolean; caches: boolean },
): Promise<CleanReport> {
  const plan = await planCoreClean(env, options);
  const envs = await withSettings(plan.records);
  const payload = { envs, dryRun: options.dryRun, caches: options.caches };
  const items = await gatherItems(config, 'clean', payload, plan.actions);
  const acted = await runItems(items, (action) => action.run, options.dryRun);
  const actions = acted.map(({ source, item, ran, error }) => ({
    what: item.what,
    why: item.why,
    bytes: item.bytes,
    source,
    done: ran && error === undefined,
    ...(error !== undefined ? { error } : {}),
  }));
  return { actions, kept: plan.kept };
}

/** What a clean did (or, `dryRun`, would do), as a user reads it. */
export function cleanReport(report: CleanReport, dryRun: boolean): string[] {
  const lines = report.actions.length === 0 ? ['Nothing to clean.'] : [];
  for (const r of report.actions) {
    const verb = dryRun ? 'would remove' : r.done ? 'removed' : 'FAILED to remove';
    const size = r.bytes ? ` (${formatBytes(r.bytes)})` : '';
    lines.push(`${verb} ${r.what}${size}: ${r.why}${r.error ? ` — ${r.error}` : ''}`);
  }
  for (const k of report.kept) lines.push(`kept ${k.what}: ${k.why}`);
  return lines;
}

/** `blast clean NAME`: what was (or would be) deleted, and what to tell the user. */
export interface NamedRemoval {
  entry: ReportedClean;
  /** For the user: printed also under --json when the user was asked and said no. */
  say: string;
  declined?: boolean;
}

/**
 * Delete the named environment NAME, or, when its folder is already gone (rm -rf), what Blast
 * still keeps of it, its history. `confirm(question)` asks the user (undefined: no terminal).
 */
export async function removeNamed(
  config: Interfaces.Config,
  name: string,
  options: {
    env: Env;
    cwd: string;
    dryRun: boolean;
    yes: boolean;
    confirm: (question: string) => Promise<boolean | undefined>;
  },
): Promise<NamedRemoval> {
  const { env } = options;
  const target = resolveTarget(name, undefined, { env, cwd: options.cwd });
  const loaded = await loadEnv(target);
  const historyOnly = !loaded && hasOrphanedHistory(env, target.path);
  if (!loaded && !historyOnly)
    throw new BlastError(
      `There is no environment named ${JSON.stringify(name)}.`,
      ExitCode.notFound,
      'See `blast list`.',
    );
  if (activePath(env) === target.path) {
    throw new BlastError(`${name} is active in this shell.`, ExitCode.usage, 'Run `blast kill` first.');
  }
  // Other shells and the daemon are the daemon plugin's knowledge: it vetoes (API 1.4), before
  // anything is asked or removed.
  if (loaded) await runPhase(config, 'preRemove', { env: loaded.info }, 'veto');
  const entry: ReportedClean = {
    what: historyOnly ? `the revisions of ${target.path}` : target.path,
    why: historyOnly
      ? `environment ${name}'s folder is gone; its history deleted on request`
      : `environment ${name} deleted on request`,
    source: 'blast',
    done: false,
  };
  if (options.dryRun) return { entry, say: `would remove ${entry.what}` };
  if (!options.yes) {
    const yes = await options.confirm(
      historyOnly
        ? `Delete the history of ${name} (${target.path}, whose folder is gone)? [y/N] `
        : `Delete environment ${name} (${target.path})? [y/N] `,
    );
    if (yes === undefined)
      throw new BlastError(`Deleting ${name} needs confirmation: pass --yes.`, ExitCode.usage);
    if (!yes) return { entry, say: 'Nothing deleted.', declined: true };
  }
  await removeEnvironment(env, target.path);
  entry.done = true;
  return {
    entry,
    say: historyOnly ? `removed the history of ${name} (${target.path})` : `removed ${name} (${target.path})`,
  };
}
