import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import {
  describeChange,
  ObjectStore,
  recordCurrent,
  timeline,
  type TimelineEntry,
} from '../lib/store/index.js';
import { snapshotTarget } from '../lib/envs/target.js';
import { table } from '../lib/cli/table.js';

export interface History {
  env: string;
  /** Set when a pip transaction runs in the environment: the history may lack its change yet. */
  busy?: string;
  entries: TimelineEntry[];
}

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function what(e: TimelineEntry): string {
  if (e.kind === 'snapshot') return `snapshot ${e.name}`;
  return e.detail ? `${e.source}: ${e.source === 'pip' ? 'pip ' : ''}${e.detail}` : e.source;
}

export default class History_ extends BlastCommand {
  static override summary =
    "Show the environment's history: every revision, with what it changed, and its snapshots.";
  static override description = `A revision is recorded for every settled change of the installed distributions: a pip transaction (the pip shim), a change the daemon saw made around the shim (\`python -m pip\`, \`uv pip\`: source watch), one found when Blast next looked (source outside), and every \`blast load\`. Snapshots (\`blast save\`) appear in the same timeline. Go back or forward with \`blast load --revision N\`.

The current state is recorded first when it differs from the newest revision, and a change a killed Blast left half done is finished or undone.`;

  static override examples = [
    '<%= config.bin %> history',
    '<%= config.bin %> history --limit 5',
    '<%= config.bin %> history --env api --json',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    // helpValue ENV: shells complete the value with environment names (see lib/completion.ts).
    env: Flags.string({ description: 'named environment (default: the active one)', helpValue: 'ENV' }),
    path: Flags.string({ description: 'project-local environment directory', helpValue: 'DIR' }),
    limit: Flags.integer({ char: 'n', description: 'show only the newest N entries', min: 1 }),
  };

  async run(): Promise<History> {
    const { flags } = await this.parse(History_);
    const { info } = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    const store = ObjectStore.of(process.env);
    const synced = recordCurrent(info.path, { env: process.env, store, source: 'outside' });
    let entries = timeline(store, info.path);
    if (flags.limit !== undefined) entries = entries.slice(-flags.limit);
    if (!this.jsonEnabled()) {
      if (synced.recovery.busy) this.warn(synced.recovery.busy);
      if (entries.length === 0) this.log(`${info.name} has no history yet.`);
      else
        this.log(
          table(
            ['REV', 'TIME', 'WHAT', 'CHANGE'],
            entries.map((e) =>
              e.kind === 'revision'
                ? [`${e.n}${e.current ? '*' : ''}`, when(e.time), what(e), describeChange(e.change)]
                : ['-', when(e.time), what(e), e.error ? 'corrupt' : `${e.distributions} distributions`],
            ),
          ),
        );
      const current = entries.find((e) => e.kind === 'revision' && e.current);
      if (current) this.log(`* current. Go back or forward with \`blast load --revision N\`.`);
    }
    return {
      env: info.path,
      ...(synced.recovery.busy ? { busy: synced.recovery.busy } : {}),
      entries,
    };
  }
}
