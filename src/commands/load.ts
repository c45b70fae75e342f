import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { BlastError, ExitCode } from '../lib/cli/errors.js';
import { pluginTransactionHooks } from '../lib/plugin-host/install-contributions.js';
import type { LockLoaded } from '../lib/lockfiles/index.js';
import { loadSnapshotCommand, type SnapshotLoaded } from '../lib/snapshots/load.js';
import { snapshotNames, type SnapshotRow, snapshotRows, snapshotTable } from '../lib/snapshots/listing.js';
import { ObjectStore } from '../lib/store/index.js';
import { snapshotTarget } from '../lib/envs/target.js';

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

  /** Three modes, three results: a snapshot or revision restored, a lock applied, the snapshots listed. */
  async run(): Promise<SnapshotLoaded | SnapshotRow[] | LockLoaded> {
    const { args, flags } = await this.parse(Load);
    const ctx = { env: process.env, cwd: process.cwd() };
    if (flags.lock !== undefined) {
      if (args.name !== undefined || flags.revision !== undefined || flags.list)
        throw new BlastError('--lock takes no snapshot name, --revision or --list.', ExitCode.usage);
      const { info } = await snapshotTarget(flags, ctx);
      // The lock machinery (pip, TOML, task lists) loads only for --lock.
      const { loadLock, lockReport } = await import('../lib/lockfiles/index.js');
      const hooks = pluginTransactionHooks(this.config);
      const result = await loadLock(flags.lock, { info, json: this.jsonEnabled(), hooks });
      if (!this.jsonEnabled()) for (const line of lockReport(result, info.name)) this.log(line);
      return result;
    }
    if (flags.list && flags.revision !== undefined)
      throw new BlastError('--list takes no --revision.', ExitCode.usage);
    if (flags.names || flags.list) {
      if (flags.list && args.name !== undefined)
        throw new BlastError('--list takes no snapshot name.', ExitCode.usage);
      const loaded = await snapshotTarget(flags, ctx);
      const store = ObjectStore.of(process.env);
      if (flags.names) {
        for (const name of snapshotNames(store, loaded.info.path)) this.log(name);
        return [];
      }
      const rows = snapshotRows(loaded.info, store, process.env);
      if (!this.jsonEnabled()) for (const line of snapshotTable(rows, loaded.info.name)) this.log(line);
      return rows;
    }
    const { result, lines } = await loadSnapshotCommand(this.config, {
      name: args.name,
      revision: flags.revision,
      env: flags.env,
      path: flags.path,
    });
    if (!this.jsonEnabled()) for (const line of lines) this.log(line);
    return result;
  }
}
