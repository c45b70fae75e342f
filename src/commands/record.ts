import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import type { RecordResult } from '../lib/plugin-host/contract.js';
import { ObjectStore, recordCurrent, REVISION_SOURCES, type RevisionSummary } from '../lib/store/index.js';
import { pausePoint } from '../lib/store/crash.js';
import { snapshotTarget } from '../lib/envs/target.js';

/** The contract's `RecordResult` (src/lib/plugin-host/contract.ts): what plugins that record revisions read. */
export interface Recorded extends RecordResult {
  /** The revision recorded; absent when the state equals the newest revision's (or pip runs there). */
  recorded?: RevisionSummary;
  /** Set when a pip transaction runs in the environment, so nothing was recorded. */
  busy?: string;
}

export default class Record extends BlastCommand {
  // Part of the plugin contract (API 1.5: `ctx.cli` + `record --path P --json`, see RecordResult in
  // src/lib/plugin-host/contract.ts and docs/plugins.md), not a command for people: hidden from the command list.
  static override hidden = true;
  static override summary = "Record the environment's current state as a revision (what the daemon runs).";
  static override description = `Part of the plugin contract: a plugin runs it (ctx.cli plus these arguments) to have a change it saw recorded. The daemon's watcher runs this when it sees a settled change of the installed distributions (pip run around the shim: \`python -m pip\`, \`uv pip\`). Nothing is recorded when the distributions are the same as the newest revision's, or while a pip transaction or a \`blast load\` runs in the environment (they record their own).`;

  static override examples = ['<%= config.bin %> record --path ~/.local/share/blast/envs/api --source watch'];

  static override enableJsonFlag = true;

  static override flags = {
    // helpValue ENV: shells complete the value with environment names (see lib/completion.ts).
    env: Flags.string({ description: 'named environment (default: the active one)', helpValue: 'ENV' }),
    path: Flags.string({ description: 'environment directory', helpValue: 'DIR' }),
    source: Flags.string({
      description: 'where the change came from',
      options: [...REVISION_SOURCES],
      default: 'record',
    }),
    detail: Flags.string({ description: 'a note kept with the revision' }),
  };

  async run(): Promise<Recorded> {
    const { flags } = await this.parse(Record);
    const { info } = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    // Test-only: one environment's recording held up (`record NAME`), the others not.
    pausePoint(`record ${info.name}`);
    const synced = recordCurrent(info.path, {
      env: process.env,
      store: ObjectStore.of(process.env),
      source: flags.source as (typeof REVISION_SOURCES)[number],
      ...(flags.detail !== undefined ? { detail: flags.detail } : {}),
    });
    if (!this.jsonEnabled()) {
      if (synced.recovery.busy) this.log(`Nothing recorded: ${synced.recovery.busy}`);
      else if (synced.recorded) this.log(`Recorded revision ${synced.recorded.n} of ${info.name}.`);
      else this.log(`${info.name} is as its newest revision has it; nothing recorded.`);
    }
    return {
      env: info.path,
      ...(synced.recorded ? { recorded: synced.recorded } : {}),
      ...(synced.recovery.busy ? { busy: synced.recovery.busy } : {}),
    };
  }
}
