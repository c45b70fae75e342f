import { Args, Flags } from '@oclif/core';
import { BlastCommand } from '../lib/base-command.js';
import { BlastError, ExitCode } from '../lib/errors.js';
import { writeEnvConfig } from '../lib/env-config.js';
import {
  listSnapshots,
  loadSnapshot,
  ObjectStore,
  readManifest,
  restoreEnv,
  type RestoreResult,
} from '../lib/store/index.js';
import { assertSnapshotName, snapshotTarget } from '../lib/store/target.js';
import { table } from '../lib/table.js';
import { readVenv } from '../lib/venv/index.js';

export interface Listed {
  name: string;
  createdAt: string;
  python: string;
  distributions: number;
  file: string;
  /** Why the snapshot cannot be read, when it cannot. */
  error?: string;
}

export interface Loaded extends RestoreResult {
  name: string;
  env: string;
  ms: number;
  variablesRestored: boolean;
}

export default class Load extends BlastCommand {
  static override summary =
    'Restore a snapshot taken with `blast save`, offline, by re-linking only what differs.';
  static override description = `Distributions installed since the snapshot are removed (exactly the files their RECORDs list), the snapshot's are linked back from Blast's store, and the environment's variables are set back to the snapshot's. Nothing is downloaded or built.

Without a name, the newest snapshot is restored. The change is journaled: if it is interrupted, the next \`blast save\` or \`blast load\` finishes it (or undoes it), so the environment is never a mix of the two states.`;

  static override examples = [
    '<%= config.bin %> load before-upgrade',
    '<%= config.bin %> load',
    '<%= config.bin %> load --list',
    '<%= config.bin %> load --env api nightly --json',
  ];

  static override enableJsonFlag = true;

  static override args = {
    name: Args.string({ description: 'snapshot to restore (default: the newest)' }),
  };

  static override flags = {
    list: Flags.boolean({ char: 'l', description: "list the environment's snapshots instead" }),
    env: Flags.string({ description: 'named environment to restore (default: the active one)' }),
    path: Flags.string({ description: 'project-local environment directory to restore' }),
  };

  async run(): Promise<Loaded | Listed[]> {
    const { args, flags } = await this.parse(Load);
    const loaded = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    const { info } = loaded;
    const store = ObjectStore.of(process.env);
    const snapshots = listSnapshots(store, info.path);

    if (flags.list) {
      if (args.name !== undefined) throw new BlastError('--list takes no snapshot name.', ExitCode.usage);
      const rows: Listed[] = snapshots.map((s) => {
        try {
          const m = readManifest(s.file);
          return {
            name: s.name,
            createdAt: m.createdAt,
            python: m.python,
            distributions: m.distributions.length,
            file: s.file,
          };
        } catch (error) {
          const row: Listed = { name: s.name, createdAt: '', python: '', distributions: 0, file: s.file };
          row.error = (error as Error).message;
          return row;
        }
      });
      if (!this.jsonEnabled()) {
        if (rows.length === 0) this.log(`${info.name} has no snapshots yet. Take one with \`blast save\`.`);
        else
          this.log(
            table(
              ['NAME', 'SAVED', 'PYTHON', 'DISTRIBUTIONS'],
              rows.map((r) =>
                r.error
                  ? [r.name, 'corrupt', '-', '-']
                  : [
                      r.name,
                      r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
                      r.python,
                      String(r.distributions),
                    ],
              ),
            ),
          );
      }
      return rows;
    }

    const name =
      args.name !== undefined
        ? assertSnapshotName(args.name)
        : (snapshots.at(-1)?.name ??
          (() => {
            throw new BlastError(
              `${info.name} has no snapshots.`,
              ExitCode.notFound,
              'Take one with `blast save`.',
            );
          })());
    const manifest = loadSnapshot(store, info.path, name);
    const version = readVenv(info.path).version;
    if (version && manifest.python && version !== manifest.python) {
      throw new BlastError(
        `${name} was taken with Python ${manifest.python}; ${info.name} now has Python ${version}. Nothing was changed.`,
        ExitCode.usage,
      );
    }
    const started = performance.now();
    const result = restoreEnv(info.path, manifest, { env: process.env, store });
    let variablesRestored = false;
    if (
      manifest.variables &&
      JSON.stringify(manifest.variables) !== JSON.stringify(loaded.config.variables)
    ) {
      await writeEnvConfig(info.path, { ...loaded.config, variables: manifest.variables });
      variablesRestored = true;
    }
    const ms = Math.round(performance.now() - started);
    if (!this.jsonEnabled()) {
      if (result.changed === 0 && !variablesRestored) this.log(`${info.name} is already as ${name} has it.`);
      else {
        const parts = [...result.removed.map((d) => `-${d}`), ...result.added.map((d) => `+${d}`)];
        this.log(
          `Restored ${name} into ${info.name} in ${ms} ms: ${parts.length ? parts.join(', ') : 'same distributions'}` +
            ` (${result.changed} paths changed${variablesRestored ? ', variables restored' : ''}).`,
        );
        if (variablesRestored) this.log('The variables take effect at the next `blast start`.');
      }
    }
    return { name, env: info.path, ms, variablesRestored, ...result };
  }
}
