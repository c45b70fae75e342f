import { Args, Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
} from '../lib/store/index.js';
import { assertSnapshotName, snapshotTarget, timestampName } from '../lib/store/target.js';

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
}

export default class Save extends BlastCommand {
  static override summary = "Record the environment's installed distributions as a named snapshot.";
  static override description = `Every file the installed distributions' RECORDs list (console scripts in bin/ included) goes into Blast's content-addressed store by hard link, so a snapshot costs almost no disk, and \`blast load\` brings it back offline by re-linking only what differs. The Python version and the environment's variables are recorded too.

The environment is the active one, or the one --env or --path names.`;

  static override examples = [
    '<%= config.bin %> save',
    '<%= config.bin %> save before-upgrade',
    '<%= config.bin %> save --env api nightly --json',
    '<%= config.bin %> save --path .venv known-good --force',
  ];

  static override enableJsonFlag = true;

  static override args = {
    name: Args.string({
      description: 'snapshot name (default: the current UTC time, like 2026-11-25T19-03-00Z)',
    }),
  };

  static override flags = {
    env: Flags.string({ description: 'named environment to snapshot (default: the active one)' }),
    path: Flags.string({ description: 'project-local environment directory to snapshot' }),
    force: Flags.boolean({ char: 'f', description: 'replace a snapshot of the same name' }),
  };

  async run(): Promise<Saved> {
    const { args, flags } = await this.parse(Save);
    const name = assertSnapshotName(args.name ?? timestampName());
    const { info } = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    const store = ObjectStore.of(process.env);
    if (!flags.force && existsSync(join(snapshotsDir(store, info.path), `${name}.json`))) {
      throw new BlastError(
        `${info.name} already has a snapshot named ${name}.`,
        ExitCode.usage,
        'Pick another name, or replace it with --force.',
      );
    }
    const started = performance.now();
    // A restore interrupted by a crash is finished first: a snapshot is of a whole state.
    recoverEnv(info.path, { env: process.env, store });
    store.staleTemps();
    const stats: SnapshotStats = { files: 0, newObjects: 0, newBytes: 0 };
    // The newest snapshot tells which files are still the objects it stored: those are not hashed again.
    const newest = listSnapshots(store, info.path).at(-1);
    let previous: Manifest | undefined;
    try {
      previous = newest ? readManifest(newest.file) : undefined;
    } catch {
      previous = undefined; // a corrupt snapshot only costs the shortcut
    }
    const manifest = snapshotEnv(info.path, { env: process.env, store, stats, previous });
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
    if (!this.jsonEnabled())
      this.log(
        `Saved ${name}: ${saved.distributions.length} distributions of ${info.name}, ${stats.files} files ` +
          `(${stats.newObjects} new in the store, ${formatBytes(stats.newBytes)}) in ${saved.ms} ms.`,
      );
    return saved;
  }
}
