import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/base-command.js';
import { BlastError, ExitCode } from '../lib/errors.js';
import { updateEnvConfig } from '../lib/environments.js';
import type { SettingValue } from '../lib/hooks.js';
import {
  collectSettingSpecs,
  mergeSettings,
  parseGiven,
  RESERVED_SETTING_NAMES,
  unknownSetting,
} from '../lib/settings.js';
import { snapshotTarget } from '../lib/store/target.js';
import { table } from '../lib/table.js';

export interface ConfigShown {
  env: string;
  path: string;
  settings: Record<string, SettingValue>;
  available: Array<{ name: string; plugin: string; type: string; multiple: boolean; description: string }>;
  changed: boolean;
}

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
    const specs = await collectSettingSpecs(this.config, RESERVED_SETTING_NAMES, (m) => this.warn(m));
    const given = (argv as string[]).map((arg): [string, string] => {
      const eq = arg.indexOf('=');
      if (eq <= 0) {
        throw new BlastError(`Expected NAME=VALUE, got ${JSON.stringify(arg)}.`, ExitCode.usage);
      }
      return [arg.slice(0, eq), arg.slice(eq + 1)];
    });
    const removals = flags.unset ?? [];
    for (const name of removals) if (!specs.some((s) => s.name === name)) throw unknownSetting(name, specs);
    const stored = loaded.config.settings ?? {};
    const settings = mergeSettings(stored, parseGiven(specs, given), removals);
    const updated = await updateEnvConfig(loaded, {}, [], settings);
    const changed = updated !== loaded;

    const shown: ConfigShown = {
      env: loaded.info.name,
      path: loaded.info.path,
      settings,
      available: specs.map((s) => ({
        name: s.name,
        plugin: s.plugin,
        type: s.type,
        multiple: s.multiple === true,
        description: s.description,
      })),
      changed,
    };
    if (this.jsonEnabled()) return shown;
    if (given.length || removals.length) {
      this.log(
        changed
          ? `Updated ${loaded.info.name}'s settings; they take effect at the next \`blast start\`.`
          : `${loaded.info.name} already has these settings.`,
      );
    }
    if (specs.length === 0) {
      this.log('No installed plugin declares settings.');
      return shown;
    }
    this.log(
      table(
        ['SETTING', 'VALUE', 'PLUGIN', 'DESCRIPTION'],
        specs.map((s) => {
          const value = settings[s.name];
          const text = value === undefined ? '-' : Array.isArray(value) ? value.join(', ') : String(value);
          return [s.name, text, s.plugin, s.description];
        }),
      ),
    );
    return shown;
  }
}
