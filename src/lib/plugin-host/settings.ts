/**
 * Plugin settings (API 1.2): plugins declare them through the `settings` event; the core makes
 * each one a `blast start --<name>` flag and a `blast config NAME=VALUE` key, checks values with
 * the plugin's own parse(), and stores them in the environment's blast.json. What a setting means
 * stays the plugin's business.
 */
import type { Interfaces } from '@oclif/core';
import { createRequire } from 'node:module';
import type * as FlagsModule from '@oclif/core/flags';
import type { SettingSpec, SettingValue, Settings } from './contract.js';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { runPhase } from './events.js';
import { byText } from '../text-order.js';

export interface OwnedSpec extends SettingSpec {
  plugin: string;
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** What a setting may not be called: `blast start`'s own flags and oclif's. */
export const RESERVED_SETTING_NAMES: ReadonlySet<string> = new Set([
  'python',
  'path',
  'env',
  'unset-env',
  'shell',
  'here',
  'force',
  'help',
  'version',
]);

/**
 * Every plugin's settings. A spec that is malformed, or whose name a core flag or another plugin
 * already uses, is left out with a warning rather than stopping every command that needs the list.
 */
export async function collectSettingSpecs(
  config: Interfaces.Config,
  reserved: ReadonlySet<string>,
  warn: (message: string) => void = (m) => process.stderr.write(`blast: warning: ${m}\n`),
): Promise<OwnedSpec[]> {
  const { results } = await runPhase(config, 'settings', {}, 'inform', warn);
  const specs: OwnedSpec[] = [];
  const owner = new Map<string, string>();
  for (const { plugin, result } of results) {
    for (const spec of Array.isArray(result) ? result : []) {
      const problem = specProblem(spec, reserved, owner);
      if (problem) {
        warn(`plugin ${plugin}: setting ${JSON.stringify(spec?.name)} ignored: ${problem}.`);
        continue;
      }
      owner.set(spec.name, plugin);
      specs.push({ ...spec, plugin });
    }
  }
  return specs.sort((a, b) => byText(a.name, b.name));
}

function specProblem(
  spec: SettingSpec | undefined,
  reserved: ReadonlySet<string>,
  owner: ReadonlyMap<string, string>,
): string | undefined {
  if (!spec || typeof spec.name !== 'string' || !NAME.test(spec.name)) return 'its name is not kebab-case';
  if (spec.type !== 'string' && spec.type !== 'boolean') return 'its type is neither string nor boolean';
  if (spec.type === 'boolean' && spec.multiple) return 'a boolean cannot be repeated';
  if (reserved.has(spec.name)) return 'a core flag has that name';
  if (owner.has(spec.name)) return `plugin ${owner.get(spec.name)} already owns it`;
  return undefined;
}

/** oclif flags for `blast start` (and help), one per setting. */
export function settingFlags(specs: readonly OwnedSpec[]): Interfaces.FlagInput {
  // Loaded here, not with the module: the activation's lean path (lib/host/lean.ts) reads
  // settings without oclif.
  const Flags = createRequire(import.meta.url)('@oclif/core/flags') as typeof FlagsModule;
  const flags: Interfaces.FlagInput = {};
  for (const spec of specs) {
    const description = `${spec.description} (setting of ${spec.plugin}; stored with the environment)`;
    const common = {
      description,
      helpGroup: 'PLUGIN SETTINGS',
      helpValue: spec.helpValue,
      options: spec.options ? [...spec.options] : undefined,
    };
    flags[spec.name] =
      spec.type === 'boolean'
        ? Flags.boolean({ description, helpGroup: 'PLUGIN SETTINGS' })
        : spec.multiple
          ? Flags.string({ ...common, multiple: true })
          : Flags.string(common);
  }
  return flags;
}

/** Flags on a command line that are not among `known` (long names and single-letter chars). */
export function unknownFlags(argv: readonly string[], known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === '--') break;
    const long = /^--([^=]+)/.exec(arg);
    if (long && !known.has(long[1]!)) out.push(long[1]!);
  }
  return out;
}

/** One value through its spec: allowed option, no NUL or newline, the plugin's own parse(). */
export function parseSettingValue(spec: OwnedSpec, raw: string): string {
  if (raw.includes('\0') || raw.includes('\n')) {
    throw new BlastError(`--${spec.name}: a value cannot contain a NUL or a newline.`, ExitCode.usage);
  }
  if (spec.options && !spec.options.includes(raw)) {
    throw new BlastError(
      `--${spec.name} must be one of ${spec.options.join(', ')}; got ${JSON.stringify(raw)}.`,
      ExitCode.usage,
    );
  }
  if (!spec.parse) return raw;
  let parsed: unknown;
  try {
    parsed = spec.parse(raw);
  } catch (error) {
    throw new BlastError(`--${spec.name} ${JSON.stringify(raw)}: ${messageOf(error)}`, ExitCode.usage);
  }
  if (typeof parsed !== 'string') {
    throw new BlastError(`Plugin ${spec.plugin} returned a non-string for --${spec.name}.`);
  }
  return parsed;
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/**
 * Values given for settings (from flags, or `NAME=VALUE` pairs) checked and normalised. Strings
 * for a repeatable setting become a list; booleans accept true/false, yes/no, on/off, 1/0.
 */
export function parseGiven(
  specs: readonly OwnedSpec[],
  given: ReadonlyArray<readonly [name: string, value: string | boolean]>,
): Record<string, SettingValue> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: Record<string, SettingValue> = {};
  for (const [name, value] of given) {
    const spec = byName.get(name);
    if (!spec) throw unknownSetting(name, specs);
    if (spec.type === 'boolean') {
      const text = String(value).toLowerCase();
      if (typeof value !== 'boolean' && !TRUE.has(text) && !FALSE.has(text)) {
        throw new BlastError(`${name} is true or false; got ${JSON.stringify(value)}.`, ExitCode.usage);
      }
      out[name] = typeof value === 'boolean' ? value : TRUE.has(text);
      continue;
    }
    const parsed = parseSettingValue(spec, String(value));
    if (spec.multiple) out[name] = [...((out[name] as string[] | undefined) ?? []), parsed];
    else out[name] = parsed;
  }
  return out;
}

export function unknownSetting(name: string, specs: readonly OwnedSpec[]): BlastError {
  return new BlastError(
    `No setting named ${JSON.stringify(name)}.`,
    ExitCode.usage,
    specs.length
      ? `Settings: ${specs.map((s) => s.name).join(', ')} (see \`blast config --list\`).`
      : 'No installed plugin declares settings.',
  );
}

/** Stored settings with `changes` applied and `removals` taken out; a boolean false is removed too. */
export function mergeSettings(
  stored: Settings,
  changes: Readonly<Record<string, SettingValue>>,
  removals: readonly string[] = [],
): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = { ...stored, ...changes };
  for (const name of removals) delete out[name];
  for (const [name, value] of Object.entries(out)) if (value === false) delete out[name];
  return out;
}

export function sameSettings(a: Settings, b: Settings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return false;
  return true;
}

/**
 * `name=value` for display, a repeatable setting once per value (as `blast config` takes it):
 * joining values with commas would be ambiguous for `numpy>=1.26,<2`.
 */
export function formatSettings(settings: Settings): string {
  return Object.entries(settings)
    .flatMap(([name, value]) =>
      value === true ? [name] : (Array.isArray(value) ? value : [String(value)]).map((v) => `${name}=${v}`),
    )
    .join(' ');
}
