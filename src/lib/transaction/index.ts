/**
 * pip transactions: pip runs in an active environment between a snapshot and either a commit or
 * an automatic rollback. The order, and what each failure means:
 *
 *   preInstall (veto: pip does not run) → snapshot → pip → change → postInstall
 *   → pip failed or a postInstall handler threw: restore the snapshot, remove what pip left
 *     outside every RECORD, and say what was undone.
 *
 * A full disk: the journal, the state before and a reserve of room are written before pip runs;
 * the reserve is given back as soon as pip exits, so the journal's next phases and the rollback
 * have room even when pip filled the disk, and the user reads "disk full", not pip's errno.
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type {
  EnvInfo,
  InstallChange,
  InstallEvent,
  PipReport,
  PostInstallEvent,
  ReviewEvent,
} from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import {
  beginTransaction,
  endTransaction,
  installedNames,
  latestManifest,
  ObjectStore,
  recordRevision,
  recoverEnv,
  releaseReserve,
  removeStrays,
  RESERVE_BYTES,
  restoreEnv,
  setPhase,
  snapshotEnv,
  transactionReservePath,
  treePaths,
  type Manifest,
  type RestoreResult,
  type RevisionSource,
  type RevisionSummary,
  type TransactionJournal,
  withEnvLockAsync,
} from '../store/index.js';
import { crashPoint } from '../store/crash.js';
import { bareEnvInfo, runPipInherit, type PipWrap } from './pip-process.js';
import { diskIsFull, freeText, isDiskFull } from '../fs/disk-full.js';
import { startDrivenPip, type DrivenPip } from './pip-driver.js';
import { serveFromStore, type WantedDist } from '../store/serve.js';
import { normalizeName } from '../python/names.js';

export { treePaths, removeStrays } from '../store/index.js';

export { classifyPip, parsePip, pipCommand, READ_ONLY, type PipKind } from './pip-args.js';
export { runPipCapture, runPipInherit, type PipLaunch, type PipOutput, type PipWrap } from './pip-process.js';
export { ensureShim, shimDir, shimDirFor, shimNames, shimScript, shQuote } from './shim.js';

/**
 * Run the environment's own pip with the terminal untouched; resolves to its exit status. Through
 * the one pip launcher (pip-process.ts), wrapped by `wrap` (the plugins' `wrap` event) when given.
 */
export async function runPip(
  envPath: string,
  args: readonly string[],
  env: Env = process.env,
  onSpawn?: (pid: number) => void,
  wrap?: PipRunnerWrap,
): Promise<number> {
  return runPipInherit(
    { info: wrap?.info ?? bareEnvInfo(envPath), args, env, ...(wrap ? { wrap: wrap.wrap } : {}) },
    onSpawn,
  );
}

/** How a transaction's pip is wrapped: the environment it runs in and the core's wrap event. */
export interface PipRunnerWrap {
  info: EnvInfo;
  wrap: PipWrap;
}

/** `name version` per installed distribution. */
export type DistVersions = Map<string, string>;

export function distVersions(dists: ReadonlyArray<{ name: string; version: string }>): DistVersions {
  return new Map(dists.map((d) => [normalizeName(d.name), `${d.name} ${d.version}`]));
}

export function changeBetween(before: DistVersions, after: DistVersions): InstallChange {
  const change: InstallChange = { added: [], removed: [], upgraded: [] };
  for (const [key, now] of after) {
    const was = before.get(key);
    if (was === undefined) change.added.push(now);
    else if (was !== now) change.upgraded.push(`${was} -> ${now.slice(now.lastIndexOf(' ') + 1)}`);
  }
  for (const [key, was] of before) if (!after.has(key)) change.removed.push(was);
  for (const list of Object.values(change)) list.sort();
  return change;
}

export function changeIsEmpty(change: InstallChange): boolean {
  return change.added.length + change.removed.length + change.upgraded.length === 0;
}

export interface Timings {
  /** Milliseconds: recovery check + snapshot (hashing into the store) + the path listing + the journal. */
  snapshot: number;
  pip: number;
  /** The change computation and postInstall. */
  after: number;
  rollback?: number;
  /** The after snapshot and its revision (a successful transaction). */
  record?: number;
  /** The reviewInstall handlers, while pip waits (included in `pip`). */
  review?: number;
  /** Linking what the store has, while pip waits (included in `pip`). */
  serve?: number;
  /** Milliseconds since the process started when the transaction began, pip started, its plan came and it exited. */
  at: { begun: number; pipStarted?: number; planned?: number; pipExited?: number };
}

/**
 * Whether what pip resolved may come from the store instead: not when the install goes elsewhere
 * (the report is about another tree), is a dry run, or the user asked pip to reinstall.
 */
function servable(event: InstallEvent): boolean {
  const options = event.pip?.options ?? {};
  return !['target', 'prefix', 'root', 'user', 'dry-run', 'force-reinstall', 'ignore-installed'].some(
    (o) => options[o] !== undefined,
  );
}

/** The wheels pip's report names, as the store is asked for them (sdists, directories: pip builds). */
export function wantedFrom(report: PipReport): WantedDist[] {
  const wanted: WantedDist[] = [];
  for (const item of report.install) {
    const url = item.download_info?.url ?? '';
    const file = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1).split('#')[0]!);
    if (!file.endsWith('.whl')) continue;
    const info = item.download_info?.archive_info;
    const hash = info?.hashes?.sha256 ?? (info?.hash?.startsWith('sha256=') ? info.hash.slice(7) : undefined);
    wanted.push({
      name: item.metadata.name,
      version: item.metadata.version,
      wheelName: file,
      ...(hash ? { hash } : {}),
      requested: item.requested === true,
    });
  }
  return wanted;
}

export interface TransactionHooks {
  /** Resolves to variables for pip's environment (plugins' `preInstall` contributions). */
  preInstall(event: InstallEvent): Promise<Record<string, string> | void>;
  /**
   * pip resolved an install and waits (API 1.5's `reviewInstall`); throws to stop it. Without
   * it, pip runs as a plain process (no review).
   */
  reviewInstall?(event: ReviewEvent): Promise<void>;
  /** Throws when a handler failed it (the message is shown). */
  postInstall(event: PostInstallEvent): Promise<void>;
  /** Wraps pip (the plugins' `wrap` event, purpose `install`); pip runs as is without it. */
  wrap?: PipWrap;
  /** pip runs: get ready for the events after it (load their handlers) while it resolves. */
  prepare?(): void;
}

export interface TransactionOptions {
  envPath: string;
  event: InstallEvent;
  hooks: TransactionHooks;
  env?: Env;
  /** Runs pip; `runPip` by default (tests and benches may replace it). */
  pip?: (
    envPath: string,
    args: readonly string[],
    env: Env,
    onSpawn?: (pid: number) => void,
    wrap?: PipRunnerWrap,
  ) => Promise<number>;
  /** Where to tell the user what was undone. */
  report?: (line: string) => void;
  /** The Blast command running this (`pip` by default; `load`): how other processes see it still runs. */
  blastCommand?: string;
  /** The revision a commit is recorded as; default: source `pip`, pip's arguments. */
  record?: { source: RevisionSource; detail: string };
  /** What the user ran, for the rollback line ("this pip command" by default). */
  what?: string;
  /**
   * The state the runner leaves the environment in, exactly (a restore's manifest: it verified
   * every object and linked it, under the environment's lock): recorded as the after state without
   * reading the environment again, and the previous state the before snapshot compares files
   * with (it has the files a restore keeps, pip's own), instead of the latest revision.
   */
  expected?: Manifest;
}

export interface TransactionResult {
  exitCode: number;
  pipExitCode: number;
  changed: InstallChange;
  /** Set when the environment was put back. */
  rolledBack?: { reason: string; restore: RestoreResult; strays: number };
  /** The revision a committed change was recorded as (none when it changed nothing). */
  recorded?: RevisionSummary;
  timings: Timings;
}

/** Lines for the user: what the rollback undid, in terms of distributions. */
export function undoneLines(changed: InstallChange): string[] {
  const lines: string[] = [];
  for (const d of changed.added) lines.push(`  removed ${d}`);
  for (const d of changed.removed) lines.push(`  put back ${d}`);
  for (const u of changed.upgraded) {
    const [name, versions] = [u.slice(0, u.indexOf(' ')), u.slice(u.indexOf(' ') + 1)];
    const [from, to] = versions.split(' -> ');
    lines.push(`  put back ${name} ${from} (instead of ${to})`);
  }
  return lines;
}

export async function runTransaction(options: TransactionOptions): Promise<TransactionResult> {
  const { event, hooks } = options;
  const env = options.env ?? process.env;
  const root = resolve(options.envPath);
  const report = options.report ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pip = options.pip ?? runPip;

  // A veto throws: nothing ran, nothing changed.
  const pipEnv: Env = { ...env, ...((await hooks.preInstall(event)) ?? {}) };

  // The environment is this transaction's for its whole life, pip included: a load, a save or
  // another transaction waits (saying for whom), the daemon's `blast record` skips (this records
  // itself). Restores and recoveries inside run at once: this process holds the lock.
  return withEnvLockAsync(root, env, () => transact(root, env, event, hooks, pipEnv, pip, report, options), {
    what: `pip ${event.args.join(' ')}`.slice(0, 120),
    kind: 'pip',
  });
}

async function transact(
  root: string,
  env: Env,
  event: InstallEvent,
  hooks: TransactionHooks,
  pipEnv: Env,
  pip: NonNullable<TransactionOptions['pip']>,
  report: (line: string) => void,
  options: Pick<TransactionOptions, 'blastCommand' | 'record' | 'what' | 'pip' | 'expected'>,
): Promise<TransactionResult> {
  const t0 = performance.now();
  const at: Timings['at'] = { begun: t0 };
  const store = ObjectStore.of(env);
  // An interrupted transaction or restore is finished or undone first; one still running refuses.
  // Before pip starts: pip resolves against the installed distributions.
  recoverEnv(root, { env, store });
  const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  // An install runs under the driver (one resolution, reviewed while pip waits): started first,
  // so pip resolves while the snapshot is taken. It changes nothing before it is told to go.
  const driven: DrivenPip | undefined =
    // Not on a disk too full for the rollback's reserve: the transaction refuses below, and pip
    // must not have started by then.
    options.pip === undefined &&
    hooks.reviewInstall &&
    event.command === 'install' &&
    !diskIsFull(dirname(transactionReservePath(root, env)), 2 * RESERVE_BYTES)
      ? await startDrivenPip({
          info: event.env,
          args: event.args,
          env: { ...pipEnv, BLAST_TRANSACTION: id },
          ...(hooks.wrap ? { wrap: hooks.wrap } : {}),
        })
      : undefined;
  if (driven) at.pipStarted = performance.now();
  hooks.prepare?.();
  let journal: TransactionJournal;
  let manifest: Manifest;
  let watched: string[];
  let paths: Set<string>;
  let before: DistVersions;
  let begun = false;
  try {
    // Files still the very inode the latest revision stored are not read again.
    manifest = snapshotEnv(root, { env, store, previous: options.expected ?? latestManifest(store, root) });
    watched = [manifest.sitePackages, 'bin'];
    paths = treePaths(root, watched);
    before = distVersions(manifest.distributions);
    // Journaled before pip changes anything: a kill -9 from here on is finished or undone by the next command.
    journal = {
      v: 1,
      op: 'pip',
      id,
      env: root,
      startedAt: new Date().toISOString(),
      blastPid: process.pid,
      args: [...event.args],
      phase: 'started',
      command: options.blastCommand ?? 'pip',
      record: options.record ?? { source: 'pip', detail: event.args.join(' ') },
    };
    // Everything a rollback needs (the journal, the state before, room for the rollback's own writes)
    // is written before pip runs: pip filling the disk cannot stop the rollback.
    beginTransaction(root, env, journal, { v: 1, id: journal.id, manifest, watched, paths: [...paths] });
    begun = true;
    // The state before, when a change made around Blast since the latest revision.
    recordRevision(store, root, manifest, { source: 'outside' });
  } catch (error) {
    // pip has not changed anything: nothing to undo.
    if (driven) {
      driven.kill();
      await driven.exit.catch(() => 0);
    }
    if (begun) endTransaction(root, env);
    throw error;
  }
  const t1 = performance.now();

  let pipExitCode: number;
  let plan: PipReport | undefined;
  let review: number | undefined;
  let serve: number | undefined;
  const running = (pid: number) => {
    try {
      setPhase(root, env, journal, 'pip-running', { pipPid: pid });
    } catch (error) {
      // pip runs already: Blast must live on to judge and undo it. The journal still says
      // `started` (undone if Blast is killed), and recovery finds pip by BLAST_TRANSACTION.
      if (!isDiskFull(error)) throw error;
    }
  };
  try {
    if (driven) {
      if (driven.pid !== undefined) running(driven.pid);
      const message = await driven.message;
      at.planned = performance.now();
      if (message && 'report' in message) {
        plan = message.report;
        const r0 = performance.now();
        try {
          await hooks.reviewInstall!({ ...event, report: plan });
        } catch (error) {
          // Vetoed while pip waited: it installs nothing and exits.
          driven.answer({ go: false });
          await driven.exit.catch(() => 0);
          releaseReserve(root, env);
          endTransaction(root, env);
          throw error;
        }
        review = performance.now() - r0;
      }
      let skip: string[] = [];
      if (plan && servable(event)) {
        const s0 = performance.now();
        try {
          // What the store already has (any environment's, compatible with this one) is linked
          // in now; pip installs only the rest, in this same transaction.
          const result = await serveFromStore(root, wantedFrom(plan), { env, store, current: manifest });
          skip = result.served.map((d) => normalizeName(d.name));
          // pip says what it installed; what it will not see, Blast says (not under -q).
          if (skip.length > 0 && (event.pip?.verbosity ?? 0) >= 0)
            report(
              `Linked from Blast's store: ${result.served.map((d) => `${d.name}-${d.version}`).join(' ')}`,
            );
        } catch (error) {
          driven.answer({ go: false });
          await driven.exit.catch(() => 0);
          throw error;
        }
        serve = performance.now() - s0;
      }
      if (message) driven.answer({ go: true, ...(skip.length > 0 ? { skip } : {}) });
      pipExitCode = await driven.exit;
    } else {
      pipExitCode = await pip(
        root,
        event.args,
        { ...pipEnv, BLAST_TRANSACTION: journal.id },
        running,
        hooks.wrap ? { info: event.env, wrap: hooks.wrap } : undefined,
      );
    }
  } catch (error) {
    // The runner itself failed (pip could not start, a restore was refused): what it did goes,
    // then its error is the command's.
    releaseReserve(root, env);
    setPhase(root, env, journal, 'rolling-back');
    restoreEnv(root, manifest, { env, store });
    removeStrays(root, watched, paths);
    endTransaction(root, env);
    throw error;
  }
  // Judged while pip's files (and the reserve) still take their room: a pip that failed on a full
  // disk leaves next to nothing free.
  const diskFull = pipExitCode !== 0 && diskIsFull(root);
  releaseReserve(root, env);
  setPhase(root, env, journal, 'pip-done', { pipExitCode });
  const t2 = performance.now();
  at.pipExited = t2;

  // Names and versions only: no RECORD is parsed to tell what changed.
  const changed = changeBetween(before, distVersions(installedNames(root, manifest.sitePackages)));
  let reason: string | undefined =
    pipExitCode === 0
      ? undefined
      : diskFull
        ? `disk full: pip could not write into ${root} (it exited with status ${pipExitCode})`
        : `pip exited with status ${pipExitCode}`;
  let exitCode = pipExitCode;
  try {
    await hooks.postInstall({ ...event, exitCode: pipExitCode, changed, ...(plan ? { report: plan } : {}) });
  } catch (error) {
    if (reason === undefined) {
      reason = (error as Error).message;
      exitCode = 1;
    } else {
      report(`blast: ${(error as Error).message}`);
    }
  }
  const t3 = performance.now();
  const timings: Timings = {
    snapshot: t1 - t0,
    pip: t2 - t1,
    after: t3 - t2,
    at,
    ...(review === undefined ? {} : { review }),
    ...(serve === undefined ? {} : { serve }),
  };
  if (reason === undefined) {
    // The commit point: from here an interrupted transaction is finished, not undone.
    setPhase(root, env, journal, 'committing');
    // With pip's plan, only what it touched (and what the store served) is read again.
    const only = plan
      ? new Set([
          ...plan.install.map((i) => normalizeName(i.metadata.name)),
          ...[...changed.added, ...changed.removed, ...changed.upgraded].map((d) =>
            normalizeName(d.split(' ')[0]!),
          ),
        ])
      : undefined;
    const after = options.expected
      ? { ...options.expected, createdAt: new Date().toISOString() }
      : snapshotEnv(root, { env, store, previous: manifest, ...(only ? { only } : {}) });
    const recorded = recordRevision(store, root, after, journal.record!);
    crashPoint('transaction-recorded');
    endTransaction(root, env);
    timings.record = performance.now() - t3;
    return { exitCode, pipExitCode, changed, ...(recorded ? { recorded } : {}), timings };
  }

  setPhase(root, env, journal, 'rolling-back');
  const restore = restoreEnv(root, manifest, { env, store });
  const strays = removeStrays(root, watched, paths);
  crashPoint('transaction-rolled-back');
  endTransaction(root, env);
  timings.rollback = performance.now() - t3;
  const undone = undoneLines(changed);
  report(
    `blast: ${reason}; the environment was put back as it was before ${options.what ?? 'this pip command'}` +
      (undone.length === 0 ? ' (no distribution had changed).' : ':'),
  );
  for (const line of undone) report(line);
  if (diskFull)
    report(`  Free space${freeText(root).replace(' free)', ' free now)')}, then run the pip command again.`);
  return { exitCode, pipExitCode, changed, rolledBack: { reason, restore, strays }, timings };
}
