import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { configReport, type ConfigShown, configureSettings } from '../lib/envs/configure.js';
import { snapshotTarget } from '../lib/envs/target.js';

export default class Config extends BlastCommand {
  static override summary = "Show or change an environment's plugin settings (policy, constraints, limits).";
  static override description = `Settings belong to plugins (the resolver's constraints, the isolation policy, …): \`blast start --<setting>\` sets them when starting, this command shows and changes them later. They are stored with the environment and kept in its snapshots; a change takes effect at the next \`blast start\` (or the next pip transaction, for settings read there).

Give NAME=VALUE to set (repeat a repeatable setting's name for several values: they replace the old list), --unset NAME to remove. Boolean settings take true or false.`;

  static override examples = [
    '<%= config.bin %> config',
    "<%= config.bin %> config constraint='django<5' constraint='numpy<2'",
    '<%= config.bin %> config --env api memory=2G isolation=limits',
    '<%= config.bin %> config --unset disk-quota --json',
  ];

  static override enableJsonFlag = true;
  static override strict = false;

  static override args = {
    assignments: Args.string({ description: 'NAME=VALUE to set (repeatable)' }),
  };

  static override flags = {
    unset: Flags.string({ description: 'remove a setting (repeatable)', multiple: true }),
    // helpValue ENV: shells complete the value with environment names (see lib/completion.ts).
    env: Flags.string({ description: 'named environment (default: the active one)', helpValue: 'ENV' }),
    path: Flags.string({ description: 'project-local environment directory', helpValue: 'DIR' }),
  };

  async run(): Promise<ConfigShown> {
    const { argv, flags } = await this.parse(Config);
    const loaded = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    const given = argv as string[];
    const removals = flags.unset ?? [];
    const { shown, specs } = await configureSettings(this.config, loaded, given, removals, (m) =>
      this.warn(m),
    );
    if (this.jsonEnabled()) return shown;
    for (const line of configReport(shown, specs, given.length > 0 || removals.length > 0)) this.log(line);
    return shown;
  }
}
