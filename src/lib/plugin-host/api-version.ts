/**
 * The plugin API version. Plugins declare the core versions they were written for as a semver
 * range in package.json (`oclif.blast.apiVersion`); the core's version is `oclif.blast.apiVersion`
 * of its own package.json. Plugins that do not declare it are not Blast plugins (e.g. oclif's own)
 * unless they register one of Blast's events, which then requires the declaration.
 */
import type { Interfaces } from '@oclif/core';
import { createRequire } from 'node:module';
import type * as Semver from 'semver';
import type { BlastHooks } from './contract.js';

type Config = Interfaces.Config;

/**
 * Blast's events, from the contract's own type: a record over `keyof BlastHooks` does not compile
 * while an event is missing here, so a plugin answering only a new event is still held to its
 * declared API version.
 */
const EVENT_NAMES = {
  shells: true,
  preStart: true,
  activate: true,
  postStart: true,
  preKill: true,
  postKill: true,
  check: true,
  clean: true,
  list: true,
  preInstall: true,
  postInstall: true,
  reviewInstall: true,
  target: true,
  preRemove: true,
  settings: true,
  wrap: true,
} as const satisfies Record<keyof BlastHooks, true>;
const BLAST_EVENTS: ReadonlySet<string> = new Set(Object.keys(EVENT_NAMES));

interface BlastManifest {
  apiVersion?: unknown;
}

function blastSection(pjson: unknown): BlastManifest | undefined {
  return (pjson as { oclif?: { blast?: BlastManifest } }).oclif?.blast;
}

export function coreApiVersion(config: Config): string {
  const declared = blastSection(config.pjson)?.apiVersion;
  if (typeof declared !== 'string') throw new Error('the core package.json lacks oclif.blast.apiVersion');
  return declared;
}

const require = createRequire(import.meta.url);
const CARET = /^\^([1-9]\d*)\.(\d+)\.(\d+)$/;
const PLAIN = /^(\d+)\.(\d+)\.(\d+)$/;

/**
 * Does the API version `core` satisfy `range`: true, false, or undefined when `range` is not a
 * semver range. This runs before every command, and plugins declare `^MAJOR.MINOR.PATCH` with a
 * major of 1 or more: that form (>= MAJOR.MINOR.PATCH, < MAJOR+1) is decided here, and semver is
 * loaded only for anything else — loading it costs ~5 ms (20 modules, a hundred regexes).
 */
export function apiSatisfies(core: string, range: string): boolean | undefined {
  const caret = CARET.exec(range.trim());
  const version = PLAIN.exec(core);
  if (caret && version) {
    const [want, have] = [caret.slice(1).map(Number), version.slice(1).map(Number)];
    if (have[0] !== want[0]) return false;
    return have[1]! > want[1]! || (have[1] === want[1] && have[2]! >= want[2]!);
  }
  const semver = require('semver') as typeof Semver;
  if (!semver.validRange(range)) return undefined;
  return semver.satisfies(core, range);
}

export interface Incompatible {
  name: string;
  reason: string;
}

export function incompatiblePlugins(config: Config): Incompatible[] {
  const core = coreApiVersion(config);
  const found: Incompatible[] = [];
  for (const plugin of config.plugins.values()) {
    if (plugin.isRoot) continue;
    const declared = blastSection(plugin.pjson)?.apiVersion;
    const usesBlastEvents = Object.keys(plugin.hooks ?? {}).some((event) => BLAST_EVENTS.has(event));
    if (declared === undefined) {
      if (usesBlastEvents) {
        found.push({
          name: plugin.name,
          reason: 'it handles Blast events but declares no oclif.blast.apiVersion',
        });
      }
      continue;
    }
    const verdict = typeof declared === 'string' ? apiSatisfies(core, declared) : undefined;
    if (verdict === undefined) {
      found.push({
        name: plugin.name,
        reason: `its oclif.blast.apiVersion ${JSON.stringify(declared)} is not a semver range`,
      });
    } else if (!verdict) {
      found.push({
        name: plugin.name,
        reason: `it needs Blast plugin API ${declared}, this Blast has ${core}`,
      });
    }
  }
  return found;
}
