import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { wrapProcess } from '../lib/plugin-host/wrap.js';
import { type Saved, saveSnapshot, savedReport } from '../lib/snapshots/save.js';
import { ObjectStore } from '../lib/store/index.js';
import { assertSnapshotName, snapshotTarget } from '../lib/envs/target.js';

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
    const saved = await saveSnapshot(info, {
      name: args.name,
      force: flags.force,
      lock: flags.lock,
      store: ObjectStore.of(process.env),
      json: this.jsonEnabled(),
      env: process.env,
      wrap: (event) => wrapProcess(this.config, event),
    });
    if (!this.jsonEnabled()) for (const line of savedReport(saved, info.name)) this.log(line);
    return saved;
  }
}
