/**
 * `blast save [NAME] [--lock FILE]`: record an environment's installed distributions as a named
 * snapshot in the store (and write a lock of them), under the environment's lock.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatBytes } from '../envs/disk-usage.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { EnvInfo } from '../plugin-host/contract.js';
import type { PipWrap } from '../transaction/pip-process.js';
import type { LockedDist, LockFormat, LockInputs, SkippedDist } from '../lockfiles/index.js';
import type * as LockModule from '../lockfiles/index.js';
import type { Env } from '../paths.js';
import {
  installedDists,
  listSnapshots,
  type Manifest,
  type ObjectStore,
  readManifest,
  recoverEnv,
  saveManifest,
  snapshotEnv,
  snapshotsDir,
  type SnapshotStats,
  withEnvLockAsync,
} from '../store/index.js';
import { freeTimestampName } from '../envs/target.js';
import { drawTasks, runTasks, type TaskStep } from '../cli/tasks.js';

export interface Saved {
  name: string;
  env: string;
  file: string;
  createdAt: string;
  python: string;
  distributions: { name: string; version: string }[];
  files: number;
  newObjects: number;
  newBytes: number;
  /** Time spent recording (in this process, startup aside). */
  ms: number;
  /** With --lock: the lock written. */
  lock?: {
    file: string;
    format: LockFormat;
    distributions: LockedDist[];
    /** Installed but not in the lock, with the reason. */
    skipped: SkippedDist[];
  };
}

export interface SaveOptions {
  /** The snapshot's name (checked by the caller); default: a free UTC timestamp. */
  name?: string;
  /** Replace a snapshot of the same name. */
  force?: boolean;
  /** Also write a lock to this file (its name chooses the format). */
  lock?: string;
  store: ObjectStore;
  /** `--json`: no task list drawn. */
  json: boolean;
  env: Env;
  /** How a pip process is wrapped (the `wrap` event): pip's dry run for --lock builds sdists. */
  wrap?: PipWrap;
}

/**
 * Save a snapshot of `info`. The environment is this save's until the snapshot is written: a
 * snapshot is of one state, never of a load or a pip run half done, and the name it makes up is
 * free when it is written.
 */
export async function saveSnapshot(info: EnvInfo, options: SaveOptions): Promise<Saved> {
  const { store, env } = options;
  const lockFile = options.lock === undefined ? undefined : resolve(options.lock);
  // The lock machinery (pip, TOML) loads only for --lock.
  const lock = lockFile === undefined ? undefined : await import('../lockfiles/index.js');
  const format = lockFile === undefined ? undefined : lock!.lockFormat(lockFile); // before any work
  return withEnvLockAsync(
    info.path,
    env,
    async () => {
      const dir = snapshotsDir(store, info.path);
      const taken = (n: string) => existsSync(join(dir, `${n}.json`));
      const name = options.name ?? freeTimestampName(taken);
      if (!options.force && taken(name)) {
        throw new BlastError(
          `${info.name} already has a snapshot named ${name}.`,
          ExitCode.usage,
          'Pick another name, or replace it with --force.',
        );
      }
      return save(name, info, options, { lockFile, lock, format });
    },
    { kind: 'save' },
  );
}

async function save(
  name: string,
  info: EnvInfo,
  { store, env, json, wrap }: SaveOptions,
  { lockFile, lock, format }: { lockFile?: string; lock?: typeof LockModule; format?: LockFormat },
): Promise<Saved> {
  const started = performance.now();
  // A restore interrupted by a crash is finished first: a snapshot is of a whole state.
  recoverEnv(info.path, { env, store });
  store.staleTemps();
  const stats: SnapshotStats = { files: 0, newObjects: 0, newBytes: 0 };
  const state: { manifest?: Manifest; inputs?: LockInputs } = {};
  const snapshot: TaskStep<typeof state> = {
    title: `Recording ${info.name}'s distributions in the store`,
    run: (ctx) => {
      // The newest snapshot tells which files are still the objects it stored: those are not hashed again.
      const newest = listSnapshots(store, info.path).at(-1);
      let previous: Manifest | undefined;
      try {
        previous = newest ? readManifest(newest.file) : undefined;
      } catch {
        previous = undefined; // a corrupt snapshot only costs the shortcut
      }
      ctx.manifest = snapshotEnv(info.path, { env, store, stats, previous });
      return `Recorded ${ctx.manifest.distributions.length} distributions (${stats.files} files, ${stats.newObjects} new in the store)`;
    },
  };
  const steps: TaskStep<typeof state>[] = [];
  if (lockFile !== undefined) {
    // Hashes first: when pip cannot find an archive, nothing (no snapshot, no lock) is written.
    steps.push({
      title: 'Finding the archives and their sha256',
      run: async (ctx, note) => {
        ctx.inputs = await lock!.lockInputs(info.path, installedDists(info.path), {
          env,
          note,
          // pip's dry run builds sdists: it runs as every pip Blast runs (the install sandbox).
          ...(wrap ? { pip: { info, wrap } } : {}),
        });
        return `Hashed ${ctx.inputs.locked.length} archive(s)`;
      },
    });
  }
  steps.push(snapshot);
  if (lockFile !== undefined) {
    steps.push({
      title: `Writing ${lockFile}`,
      run: (ctx) => {
        const m = ctx.manifest!;
        const text =
          format === 'pylock'
            ? lock!.writePylock(ctx.inputs!.locked, { python: m.python })
            : lock!.writeRequirements(ctx.inputs!.locked, {
                python: m.python,
                env: info.name,
                createdAt: m.createdAt,
              });
        writeFileAtomic(lockFile, text, { mode: 'umask' });
        return `Wrote ${lockFile}`;
      },
    });
  }
  if (lockFile !== undefined || drawTasks({ json })) {
    await runTasks(steps, state, { json });
  } else {
    await snapshot.run(state, () => {});
  }
  const manifest = state.manifest!;
  const file = saveManifest(store, info.path, name, manifest);
  const saved: Saved = {
    name,
    env: info.path,
    file,
    createdAt: manifest.createdAt,
    python: manifest.python,
    distributions: manifest.distributions.map((d) => ({ name: d.name, version: d.version })),
    ...stats,
    ms: Math.round(performance.now() - started),
  };
  if (lockFile !== undefined && format && state.inputs) {
    saved.lock = {
      file: lockFile,
      format,
      distributions: state.inputs.locked,
      skipped: state.inputs.skipped,
    };
  }
  return saved;
}

/** What a save did, as a user reads it. */
export function savedReport(saved: Saved, envName: string): string[] {
  const lines = [
    `Saved ${saved.name}: ${saved.distributions.length} distributions of ${envName}, ${saved.files} files ` +
      `(${saved.newObjects} new in the store, ${formatBytes(saved.newBytes)}) in ${saved.ms} ms.`,
  ];
  if (saved.lock) {
    lines.push(
      `Locked ${saved.lock.distributions.length} distributions with their archives' sha256 in ${saved.lock.file}.`,
    );
    for (const s of saved.lock.skipped) lines.push(`  not locked: ${s.name} ${s.version} (${s.reason})`);
  }
  return lines;
}
