/**
 * A restore from the store (`blast load NAME`, `blast load --revision N`, the store part of
 * `blast load --lock`) as a transaction: the same `preInstall`/`postInstall` events as a pip
 * command, so a plugin's policy (the disk quota, the downgrade policy) sees every change of
 * installed distributions. No pip runs: the event's `args` are empty, its `command` is `other`,
 * and `planned` says what the restore will change, computed before anything changes. The restore
 * is the transaction's runner, so it is journaled like pip: a postInstall veto, a failure, or a
 * kill -9 at any point puts the environment back as it was (or, past the commit point, records it).
 */
import { resolve } from 'node:path';
import type { EnvInfo, InstallEvent, InstallSource } from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import {
  installedNames,
  type Manifest,
  ObjectStore,
  recoverEnv,
  restoreEnv,
  type RestoreResult,
  type RevisionSource,
} from '../store/index.js';
import {
  changeBetween,
  distVersions,
  runTransaction,
  type TransactionHooks,
  type TransactionResult,
} from './index.js';

export interface RestoreTransactionOptions {
  info: EnvInfo;
  manifest: Manifest;
  source: Exclude<InstallSource, 'pip'>;
  /** The revision a commit is recorded as. */
  record: { source: RevisionSource; detail: string };
  hooks: TransactionHooks;
  /** Whether the user may be asked (a terminal, and no BLAST_YES=1). */
  interactive: boolean;
  env?: Env;
  store?: ObjectStore;
  /** What is restored, for errors ("snapshot s1 of demo"). */
  what?: string;
  /** Runs right after the restore, inside the transaction (blast.json's variables and settings). */
  then?: () => Promise<void>;
}

export interface RestoreTransactionResult extends TransactionResult {
  /** What the restore did; absent when a preInstall handler vetoed it (that throws) or it failed. */
  restore?: RestoreResult;
}

/** Restore `manifest` between `preInstall` and `postInstall`; rolled back when postInstall fails it. */
export async function restoreTransaction(
  options: RestoreTransactionOptions,
): Promise<RestoreTransactionResult> {
  const env = options.env ?? process.env;
  const store = options.store ?? ObjectStore.of(env);
  const root = resolve(options.info.path);
  const { manifest } = options;
  // What is installed is only known once an interrupted change is finished or undone.
  recoverEnv(root, { env, store });
  const planned = changeBetween(
    distVersions(installedNames(root, manifest.sitePackages)),
    distVersions(manifest.distributions),
  );
  const event: InstallEvent = {
    env: options.info,
    args: [],
    command: 'other',
    interactive: options.interactive,
    source: options.source,
    planned,
  };
  let restore: RestoreResult | undefined;
  const result = await runTransaction({
    envPath: root,
    event,
    hooks: options.hooks,
    env,
    report: () => {}, // the caller says what happened, once
    blastCommand: 'load',
    record: options.record,
    expected: manifest,
    pip: async () => {
      restore = restoreEnv(root, manifest, { env, store, ...(options.what ? { what: options.what } : {}) });
      await options.then?.();
      return 0;
    },
  });
  return { ...result, ...(restore ? { restore } : {}) };
}
