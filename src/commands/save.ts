import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BlastCommand } from '../lib/base-command.js';
import { BlastError, ExitCode } from '../lib/errors.js';
import { formatBytes } from '../lib/disk-usage.js';
import {
  listSnapshots,
  type Manifest,
  ObjectStore,
  readManifest,
  recoverEnv,
  saveManifest,
  snapshotEnv,
  snapshotsDir,
  type SnapshotStats,
  withEnvLockAsync,
} from '../lib/store/index.js';
import { writeFileAtomic } from '../lib/fs/atomic-write.js';
import { assertSnapshotName, freeTimestampName, snapshotTarget } from '../lib/store/target.js';
import type { EnvInfo } from '../lib/hooks.js';
import { installedDists } from '../lib/store/index.js';
import type { LockedDist, LockFormat, LockInputs, SkippedDist } from '../lib/lock/index.js';
import type * as LockModule from '../lib/lock/index.js';
import { drawTasks, runTasks, type TaskStep } from '../lib/tasks.js';

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

export default class Save extends BlastCommand {
  static override summary = "Record the environment's installed distributions as a named snapshot.";
  static override description = `Every file the installed distributions' RECORDs list (console scripts in bin/ included) goes into Blast's content-addressed store by hard link, so a snapshot costs almost no disk, and \`blast load\` brings it back offline by re-linking only what differs. The Python version and the environment's variables are recorded too.

With --lock FILE, a lock is written too, its format chosen by the file name: \`requirements.txt\` (any *.txt) pins every distribution as name==version with the sha256 of its archive, for \`pip install --require-hashes\`; \`pylock.toml\` (or pylock.NAME.toml) is a PEP 751 lock. The archives are the ones your pip finds for those exact versions (your pip configuration, PIP_INDEX_URL, PIP_FIND_LINKS); pip itself and editable, directory or VCS installs are left out, with a note. \`blast load --lock FILE\` makes an environment match it. See docs/locks.md.

The environment is the active one, or the one --env or --path names.`;

  static override examples = [
    '<%= config.bin %> save',
    '<%= config.bin %> save before-upgrade',
    '<%= config.bin %> save --env api nightly --json',
    '<%= config.bin %> save --path .venv known-good --force',
    '<%= config.bin %> save --lock requirements.txt',
    '<%= config.bin %> save --env api --lock pylock.toml --json',
  ];

  static override enableJsonFlag = true;

  static override args = {
    name: Args.string({
      description: 'snapshot name (default: the current UTC time, like 2026-11-25T19-03-00.123Z)',
    }),
  };

  static override flags = {
    // helpValue ENV: shells complete the value with environment names (see lib/completion.ts).
    env: Flags.string({
      description: 'named environment to snapshot (default: the active one)',
      helpValue: 'ENV',
    }),
    path: Flags.string({ description: 'project-local environment directory to snapshot', helpValue: 'DIR' }),
    force: Flags.boolean({ char: 'f', description: 'replace a snapshot of the same name' }),
    lock: Flags.string({
      description:
        'also write a lock: requirements.txt / *.txt (pinned, with hashes) or pylock.toml (PEP 751)',
      helpValue: 'FILE',
    }),
  };

  async run(): Promise<Saved> {
    const { args, flags } = await this.parse(Save);
    if (args.name !== undefined) assertSnapshotName(args.name);
    const { info } = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    const store = ObjectStore.of(process.env);
    const lockFile = flags.lock === undefined ? undefined : resolve(flags.lock);
    // The lock machinery (pip, TOML) loads only for --lock.
    const lock = lockFile === undefined ? undefined : await import('../lib/lock/index.js');
    const format = lockFile === undefined ? undefined : lock!.lockFormat(lockFile); // before any work
    // The environment is this save's until the snapshot is written: a snapshot is of one state,
    // never of a load or a pip run half done, and the name it makes up is free when it is written.
    return withEnvLockAsync(
      info.path,
      process.env,
      async () => {
        const dir = snapshotsDir(store, info.path);
        const taken = (n: string) => existsSync(join(dir, `${n}.json`));
        const name = args.name ?? freeTimestampName(taken);
        if (!flags.force && taken(name)) {
          throw new BlastError(
            `${info.name} already has a snapshot named ${name}.`,
            ExitCode.usage,
            'Pick another name, or replace it with --force.',
          );
        }
        return this.save(name, info, store, { lockFile, lock, format });
      },
      { kind: 'save' },
    );
  }

  private async save(
    name: string,
    info: EnvInfo,
    store: ObjectStore,
    { lockFile, lock, format }: { lockFile?: string; lock?: typeof LockModule; format?: LockFormat },
  ): Promise<Saved> {
    const started = performance.now();
    // A restore interrupted by a crash is finished first: a snapshot is of a whole state.
    recoverEnv(info.path, { env: process.env, store });
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
        ctx.manifest = snapshotEnv(info.path, { env: process.env, store, stats, previous });
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
            env: process.env,
            note,
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
    if (lockFile !== undefined || drawTasks({ json: this.jsonEnabled() })) {
      await runTasks(steps, state, { json: this.jsonEnabled() });
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
    if (!this.jsonEnabled()) {
      this.log(
        `Saved ${name}: ${saved.distributions.length} distributions of ${info.name}, ${stats.files} files ` +
          `(${stats.newObjects} new in the store, ${formatBytes(stats.newBytes)}) in ${saved.ms} ms.`,
      );
      if (saved.lock) {
        this.log(
          `Locked ${saved.lock.distributions.length} distributions with their archives' sha256 in ${saved.lock.file}.`,
        );
        for (const s of saved.lock.skipped) this.log(`  not locked: ${s.name} ${s.version} (${s.reason})`);
      }
    }
    return saved;
  }
}
