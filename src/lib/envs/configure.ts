/**
 * `blast config [NAME=VALUE]... [--unset NAME]`: an environment's plugin settings, shown and
 * changed (checked by the plugins' own parse, stored in blast.json under its lock).
 */
import type { Interfaces } from '@oclif/core';
import { type Loaded, updateEnvConfig } from './environments.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { SettingValue } from '../plugin-host/contract.js';
import {
  collectSettingSpecs,
  mergeSettings,
  type OwnedSpec,
  parseGiven,
  RESERVED_SETTING_NAMES,
  unknownSetting,
} from '../plugin-host/settings.js';
import { table } from '../cli/table.js';

export interface ConfigShown {
  env: string;
  path: string;
  settings: Record<string, SettingValue>;
  available: Array<{ name: string; plugin: string; type: string; multiple: boolean; description: string }>;
  changed: boolean;
}

/** Set `assignments` (NAME=VALUE) and remove `removals` in `loaded`'s settings; what it has then. */
export async function configureSettings(
  config: Interfaces.Config,
  loaded: Loaded,
  assignments: readonly string[],
  removals: readonly string[],
  warn: (message: string) => void,
): Promise<{ shown: ConfigShown; specs: OwnedSpec[] }> {
  const specs = await collectSettingSpecs(config, RESERVED_SETTING_NAMES, warn);
  const given = assignments.map((arg): [string, string] => {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      throw new BlastError(`Expected NAME=VALUE, got ${JSON.stringify(arg)}.`, ExitCode.usage);
    }
    return [arg.slice(0, eq), arg.slice(eq + 1)];
  });
  for (const name of removals) if (!specs.some((s) => s.name === name)) throw unknownSetting(name, specs);
  const stored = loaded.config.settings ?? {};
  const settings = mergeSettings(stored, parseGiven(specs, given), [...removals]);
  const updated = await updateEnvConfig(loaded, {}, [], settings);
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
    changed: updated !== loaded,
  };
  return { shown, specs };
}

/** What `blast config` says: the change, then every setting with its value. */
export function configReport(shown: ConfigShown, specs: readonly OwnedSpec[], asked: boolean): string[] {
  const lines: string[] = [];
  if (asked) {
    lines.push(
      shown.changed
        ? `Updated ${shown.env}'s settings; they take effect at the next \`blast start\`.`
        : `${shown.env} already has these settings.`,
    );
  }
  if (specs.length === 0) return [...lines, 'No installed plugin declares settings.'];
  lines.push(
    table(
      ['SETTING', 'VALUE', 'PLUGIN', 'DESCRIPTION'],
      specs.map((s) => {
        const value = shown.settings[s.name];
        const text = value === undefined ? '-' : Array.isArray(value) ? value.join(', ') : String(value);
        return [s.name, text, s.plugin, s.description];
      }),
    ),
  );
  return lines;
}
