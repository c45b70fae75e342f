import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/base-command.js';
import { BlastError, ExitCode } from '../lib/errors.js';
import { changeEnvConfig } from '../lib/env-config.js';
import {
  listSnapshots,
  loadSnapshot,
  type Manifest,
  ObjectStore,
  readManifest,
  readRevision,
  recordCurrent,
  recoverEnv,
  type RestoreResult,
  withEnvLockAsync,
} from '../lib/store/index.js';
import { undoneLines } from '../lib/transaction/index.js';
import { restoreTransaction } from '../lib/transaction/restore.js';
import { assertSnapshotName, snapshotTarget } from '../lib/store/target.js';
import { table } from '../lib/table.js';
import { readVenv } from '../lib/venv/cfg.js';
import type { LockLoaded } from '../lib/lock/index.js';
import { pluginTransactionHooks } from '../lib/install-contributions.js';

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

/** A name the environment has no snapshot of: what it has, by name, never the store's file path. */
function noSuchSnapshot(name: string, env: string, snapshots: ReadonlyArray<{ name: string }>): BlastError {
  const have = snapshots.length
    ? `snapshots: ${snapshots.map((s) => s.name).join(', ')} (\`blast history\` shows revisions too)`
    : 'it has no snapshots yet (take one with `blast save`; `blast history` shows revisions)';
  return new BlastError(`No snapshot named ${name} in environment ${env}; ${have}.`, ExitCode.notFound);
}

export default class Load extends BlastCommand {
  static override summary =
    'Restore a snapshot taken with `blast save`, or a revision, offline, by re-linking only what differs.';
  static override description = `Distributions installed since the snapshot are removed (exactly the files their RECORDs list), the snapshot's are linked back from Blast's store, and the environment's variables and settings are set back to the snapshot's. Nothing is downloaded or built.

Without a name, the newest snapshot is restored. With --revision N, revision N of the environment's history (see \`blast history\`) is restored instead: back or forward. A load is itself recorded as a new revision.

With --lock FILE (requirements.txt / *.txt with hashes, or a PEP 751 pylock.toml), the environment is made to match the lock instead: versions the store has from any environment with a compatible Python (this one's history or another's) come back offline by re-linking, the rest through \`pip install --no-deps --require-hashes\` in a transaction (a failure puts everything back), and what the lock lacks is removed. See docs/locks.md.

The change is journaled: if it is interrupted, the next \`blast save\`, \`blast load\` or \`blast history\` finishes it (or undoes it), so the environment is never a mix of the two states.`;

  static override examples = [
    '<%= config.bin %> load before-upgrade',
    '<%= config.bin %> load',
    '<%= config.bin %> load --revision 3',
    '<%= config.bin %> load --list',
    '<%= config.bin %> load --env api nightly --json',
    '<%= config.bin %> load --lock requirements.txt',
    '<%= config.bin %> load --env api --lock pylock.toml --json',
  ];

  static override enableJsonFlag = true;

  static override args = {
    name: Args.string({ description: 'snapshot to restore (default: the newest)' }),
  };

  static override flags = {
    list: Flags.boolean({
      char: 'l',
      description: "list the environment's snapshots instead (`blast history` shows revisions too)",
    }),
    revision: Flags.integer({
      char: 'r',
      description: 'restore revision N of the history instead of a snapshot',
      min: 1,
    }),
    // helpValue ENV: shells complete the value with environment names (see lib/completion.ts).
    env: Flags.string({
      description: 'named environment to restore (default: the active one)',
      helpValue: 'ENV',
    }),
    path: Flags.string({ description: 'project-local environment directory to restore', helpValue: 'DIR' }),
    lock: Flags.string({
      description: 'make the environment match this lock (requirements.txt with hashes, or pylock.toml)',
      helpValue: 'FILE',
    }),
    names: Flags.boolean({
      description: 'print only snapshot names, one per line (for shell completion)',
      hidden: true,
    }),
  };

  async run(): Promise<Loaded | Listed[] | LockLoaded> {
    const { args, flags } = await this.parse(Load);
    if (flags.lock !== undefined) {
      if (args.name !== undefined || flags.revision !== undefined || flags.list)
        throw new BlastError('--lock takes no snapshot name, --revision or --list.', ExitCode.usage);
      const { info } = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
      // The lock machinery (pip, TOML, task lists) loads only for --lock.
      const { loadLock, lockReport } = await import('../lib/lock/index.js');
      const result = await loadLock(flags.lock, {
        info,
        json: this.jsonEnabled(),
        hooks: pluginTransactionHooks(this.config),
      });
      if (!this.jsonEnabled()) for (const line of lockReport(result, info.name)) this.log(line);
      return result;
    }
    if (flags.revision !== undefined && args.name !== undefined)
      throw new BlastError('Give a snapshot name or --revision, not both.', ExitCode.usage);
    if (flags.list && flags.revision !== undefined)
      throw new BlastError('--list takes no --revision.', ExitCode.usage);
    const loaded = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    const { info } = loaded;
    const store = ObjectStore.of(process.env);
    if (flags.names) {
      // For completion, at every TAB: read-only and quick, so no history read (see --list).
      for (const s of listSnapshots(store, info.path)) this.log(s.name);
      return [];
    }

    if (flags.list) {
      if (args.name !== undefined) throw new BlastError('--list takes no snapshot name.', ExitCode.usage);
      // A history read: an interrupted change is recovered and the current state recorded first.
      recordCurrent(info.path, { env: process.env, store, source: 'outside' });
      const rows: Listed[] = listSnapshots(store, info.path).map((s) => {
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
        this.log('Revisions (every change, with what it changed): `blast history`.');
      }
      return rows;
    }

    // The environment is this load's from the first read to the revision it records: ten loads at
    // once each bring one snapshot back whole, one after the other (DESIGN §4).
    return withEnvLockAsync(info.path, process.env, () => this.restore(loaded, flags, args.name, store), {
      kind: 'load',
    });
  }

  private async restore(
    loaded: Awaited<ReturnType<typeof snapshotTarget>>,
    flags: { revision?: number },
    snapshot: string | undefined,
    store: ObjectStore,
  ): Promise<Loaded> {
    const { info } = loaded;
    const args = { name: snapshot };
    // Whatever a killed Blast left half done comes first; a pip transaction still running refuses.
    // A half-restored environment (its journal gone) is fine: loading restores all of it.
    recoverEnv(info.path, { env: process.env, store, allowHalfRestored: true });
    let name: string;
    let manifest: Manifest;
    if (flags.revision !== undefined) {
      // The state now becomes a revision first (the transaction below records it), so that
      // loading an older one can be undone.
      manifest = readRevision(store, info.path, flags.revision).manifest;
      name = `revision ${flags.revision}`;
    } else {
      const snapshots = listSnapshots(store, info.path);
      name =
        args.name !== undefined
          ? assertSnapshotName(args.name)
          : (snapshots.at(-1)?.name ??
            (() => {
              throw new BlastError(
                `${info.name} has no snapshots.`,
                ExitCode.notFound,
                'Take one with `blast save`, or see `blast history` for revisions.',
              );
            })());
      if (!snapshots.some((s) => s.name === name)) throw noSuchSnapshot(name, info.name, snapshots);
      manifest = loadSnapshot(store, info.path, name);
    }
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
      source: flags.revision !== undefined ? 'revision' : 'load',
      record: { source: 'load', detail: name },
      hooks: pluginTransactionHooks(this.config),
      interactive: process.stdin.isTTY === true && process.env.BLAST_YES !== '1',
      env: process.env,
      store,
      what: `${flags.revision !== undefined ? name : `snapshot ${name}`} of ${info.name}`,
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
    const result = tx.restore;
    const recorded = tx.recorded;
    const ms = Math.round(performance.now() - started);
    if (!this.jsonEnabled()) {
      const restored = [restoreVariables && 'variables', restoreSettings && 'settings'].filter(Boolean);
      if (result.changed === 0 && restored.length === 0)
        this.log(`${info.name} is already as ${name} has it.`);
      else {
        const parts = [...result.removed.map((d) => `-${d}`), ...result.added.map((d) => `+${d}`)];
        this.log(
          `Restored ${name} into ${info.name} in ${ms} ms: ${parts.length ? parts.join(', ') : 'same distributions'}` +
            ` (${result.changed} paths changed${restored.length ? `, ${restored.join(' and ')} restored` : ''}).`,
        );
        if (restored.length)
          this.log(`The ${restored.join(' and ')} take effect at the next \`blast start\`.`);
      }
    }
    return {
      name,
      ...(flags.revision !== undefined ? { revision: flags.revision } : {}),
      env: info.path,
      ms,
      variablesRestored: restoreVariables,
      settingsRestored: restoreSettings,
      ...(recorded ? { recordedAs: recorded.n } : {}),
      ...result,
    };
  }
}
