/**
 * `blast load [NAME] [--revision N]`: bring a snapshot or a revision back into an environment,
 * offline, by re-linking only what differs, with its variables and settings. One transaction
 * (preInstall/postInstall, like a pip command), under the environment's lock, recorded as a
 * revision. (`--lock FILE` is lib/lock's loadLock; `--list` is ./listing.ts.)
 */
import { BlastError, ExitCode } from '../cli/errors.js';
import { changeEnvConfig } from '../envs/config.js';
import type { Loaded } from '../envs/environments.js';
import type { Env } from '../paths.js';
import {
  listSnapshots,
  loadSnapshot,
  type Manifest,
  ObjectStore,
  readRevision,
  recoverEnv,
  type RestoreResult,
  withEnvLockAsync,
} from '../store/index.js';
import type { Interfaces } from '@oclif/core';
import { assertSnapshotName, snapshotTarget } from '../envs/target.js';
import { pluginTransactionHooks } from '../plugin-host/install-contributions.js';
import { type TransactionHooks, undoneLines } from '../transaction/index.js';
import { restoreTransaction } from '../transaction/restore.js';
import { readVenv } from '../venv/cfg.js';

/** What a snapshot or revision load did (`blast load --json`). */
export interface SnapshotLoaded extends RestoreResult {
  /** The snapshot's name, or `revision N`. */
  name: string;
  /** Set when a revision was loaded. */
  revision?: number;
  env: string;
  ms: number;
  variablesRestored: boolean;
  settingsRestored: boolean;
  /** The revision this load was recorded as (none when the environment already was in that state). */
  recordedAs?: number;
}

export interface LoadSnapshotOptions {
  /** The snapshot's name (default: the newest); or `revision`. */
  name?: string;
  revision?: number;
  store: ObjectStore;
  hooks: TransactionHooks;
  /** A terminal that can answer a plugin's question. */
  interactive: boolean;
  env: Env;
}

/** A name the environment has no snapshot of: what it has, by name, never the store's file path. */
function noSuchSnapshot(name: string, env: string, snapshots: ReadonlyArray<{ name: string }>): BlastError {
  const have = snapshots.length
    ? `snapshots: ${snapshots.map((s) => s.name).join(', ')} (\`blast history\` shows revisions too)`
    : 'it has no snapshots yet (take one with `blast save`; `blast history` shows revisions)';
  return new BlastError(`No snapshot named ${name} in environment ${env}; ${have}.`, ExitCode.notFound);
}

/**
 * Restore a snapshot or a revision into `loaded`. The environment is this load's from the first
 * read to the revision it records: ten loads at once each bring one snapshot back whole, one
 * after the other (DESIGN §4).
 */
export function loadSnapshotInto(loaded: Loaded, options: LoadSnapshotOptions): Promise<SnapshotLoaded> {
  return withEnvLockAsync(loaded.info.path, options.env, () => restore(loaded, options), { kind: 'load' });
}

/** The snapshot or revision to restore, by name, and its manifest. */
function chosen(info: Loaded['info'], options: LoadSnapshotOptions): { name: string; manifest: Manifest } {
  const { store, revision } = options;
  if (revision !== undefined) {
    // The state now becomes a revision first (the transaction records it), so that loading an
    // older one can be undone.
    return { name: `revision ${revision}`, manifest: readRevision(store, info.path, revision).manifest };
  }
  const snapshots = listSnapshots(store, info.path);
  const name =
    options.name !== undefined
      ? assertSnapshotName(options.name)
      : (snapshots.at(-1)?.name ??
        (() => {
          throw new BlastError(
            `${info.name} has no snapshots.`,
            ExitCode.notFound,
            'Take one with `blast save`, or see `blast history` for revisions.',
          );
        })());
  if (!snapshots.some((s) => s.name === name)) throw noSuchSnapshot(name, info.name, snapshots);
  return { name, manifest: loadSnapshot(store, info.path, name) };
}

async function restore(loaded: Loaded, options: LoadSnapshotOptions): Promise<SnapshotLoaded> {
  const { info } = loaded;
  const { store, env, revision } = options;
  // Whatever a killed Blast left half done comes first; a pip transaction still running refuses.
  // A half-restored environment (its journal gone) is fine: loading restores all of it.
  recoverEnv(info.path, { env, store, allowHalfRestored: true });
  const { name, manifest } = chosen(info, options);
  const version = readVenv(info.path).version;
  if (version && manifest.python && version !== manifest.python) {
    throw new BlastError(
      `${name} was taken with Python ${manifest.python}; ${info.name} now has Python ${version}. Nothing was changed.`,
      ExitCode.usage,
    );
  }
  const started = performance.now();
  const restoreVariables =
    manifest.variables !== undefined &&
    JSON.stringify(manifest.variables) !== JSON.stringify(loaded.config.variables);
  const restoreSettings =
    manifest.settings !== undefined &&
    JSON.stringify(manifest.settings) !== JSON.stringify(loaded.config.settings ?? {});
  let configWritten = false;
  // Between preInstall and postInstall like a pip command (API 1.4: source load or revision,
  // with the planned change), so the quota and the downgrade policy see it.
  const tx = await restoreTransaction({
    info,
    manifest,
    source: revision !== undefined ? 'revision' : 'load',
    record: { source: 'load', detail: name },
    hooks: options.hooks,
    interactive: options.interactive,
    env,
    store,
    what: `${revision !== undefined ? name : `snapshot ${name}`} of ${info.name}`,
    then: async () => {
      if (!restoreVariables && !restoreSettings) return;
      configWritten = true;
      // Against blast.json as it is now, under the environment's lock (no lost update).
      await changeEnvConfig(info.path, (config) => ({
        ...config,
        ...(restoreVariables ? { variables: manifest.variables } : {}),
        ...(restoreSettings ? { settings: manifest.settings } : {}),
      }));
    },
  });
  if (tx.exitCode !== 0 || !tx.restore) {
    if (configWritten) await changeEnvConfig(info.path, () => loaded.config);
    const undone = undoneLines(tx.changed);
    throw new BlastError(
      `${tx.rolledBack?.reason ?? 'The restore failed'}; ${info.name} was put back as it was before loading ${name}` +
        (undone.length ? `:\n${undone.join('\n')}` : '.'),
      ExitCode.failure,
    );
  }
  return {
    name,
    ...(revision !== undefined ? { revision } : {}),
    env: info.path,
    ms: Math.round(performance.now() - started),
    variablesRestored: restoreVariables,
    settingsRestored: restoreSettings,
    ...(tx.recorded ? { recordedAs: tx.recorded.n } : {}),
    ...tx.restore,
  };
}

/** What a load did, as a user reads it. */
export function loadedReport(result: SnapshotLoaded, envName: string): string[] {
  const restored = [result.variablesRestored && 'variables', result.settingsRestored && 'settings'].filter(
    Boolean,
  );
  if (result.changed === 0 && restored.length === 0)
    return [`${envName} is already as ${result.name} has it.`];
  const parts = [...result.removed.map((d) => `-${d}`), ...result.added.map((d) => `+${d}`)];
  const lines = [
    `Restored ${result.name} into ${envName} in ${result.ms} ms: ${parts.length ? parts.join(', ') : 'same distributions'}` +
      ` (${result.changed} paths changed${restored.length ? `, ${restored.join(' and ')} restored` : ''}).`,
  ];
  if (restored.length) lines.push(`The ${restored.join(' and ')} take effect at the next \`blast start\`.`);
  return lines;
}

/**
 * `blast load [NAME | --revision N] [--env ENV | --path DIR]`, as the command and the lean path
 * (bin/run.js: a rollback should not wait for oclif) both run it: the environment, the restore,
 * and the lines to print.
 */
export async function loadSnapshotCommand(
  config: Interfaces.Config,
  request: {
    name?: string | undefined;
    revision?: number | undefined;
    env?: string | undefined;
    path?: string | undefined;
  },
  env: Env = process.env,
): Promise<{ result: SnapshotLoaded; lines: string[] }> {
  if (request.revision !== undefined && request.name !== undefined)
    throw new BlastError('Give a snapshot name or --revision, not both.', ExitCode.usage);
  const loaded = await snapshotTarget(
    {
      ...(request.env !== undefined ? { env: request.env } : {}),
      ...(request.path !== undefined ? { path: request.path } : {}),
    },
    { env, cwd: process.cwd() },
  );
  const result = await loadSnapshotInto(loaded, {
    ...(request.name !== undefined ? { name: request.name } : {}),
    ...(request.revision !== undefined ? { revision: request.revision } : {}),
    store: ObjectStore.of(env),
    hooks: pluginTransactionHooks(config),
    interactive: process.stdin.isTTY === true && env.BLAST_YES !== '1',
    env,
  });
  return { result, lines: loadedReport(result, loaded.info.name) };
}
