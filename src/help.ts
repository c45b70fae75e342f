/**
 * Help that knows plugins' settings: `blast start --help` lists `--constraint`, `--isolation`, …
 * from the plugins installed now, which a manifest written at build time cannot know.
 */
import { Help, type Command } from '@oclif/core';
import type { SettingSpec } from './lib/plugin-host/contract.js';
import { collectSettingSpecs, RESERVED_SETTING_NAMES } from './lib/plugin-host/settings.js';

/** Commands whose flags include every plugin setting. */
const TAKES_SETTINGS = new Set(['start']);

export default class BlastHelp extends Help {
  override async showCommandHelp(command: Command.Loadable): Promise<void> {
    if (!TAKES_SETTINGS.has(command.id)) return super.showCommandHelp(command);
    const specs = await collectSettingSpecs(this.config, RESERVED_SETTING_NAMES, () => {});
    const flags: Command.Loadable['flags'] = { ...command.flags };
    for (const spec of specs) flags[spec.name] = cachedFlag(spec, spec.plugin);
    return super.showCommandHelp({ ...command, flags } as Command.Loadable);
  }
}

function cachedFlag(spec: SettingSpec, plugin: string): Command.Flag.Cached {
  const description = `${spec.description} (${plugin}; stored with the environment)`;
  if (spec.type === 'boolean') {
    return { type: 'boolean', name: spec.name, description, helpGroup: 'PLUGIN SETTINGS', allowNo: false };
  }
  return {
    type: 'option',
    name: spec.name,
    description,
    helpGroup: 'PLUGIN SETTINGS',
    helpValue: spec.helpValue,
    options: spec.options ? [...spec.options] : undefined,
    multiple: spec.multiple === true,
  };
}
