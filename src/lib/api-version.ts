/**
 * The plugin API version. Plugins declare the core versions they were written for as a semver
 * range in package.json (`oclif.blast.apiVersion`); the core's version is `oclif.blast.apiVersion`
 * of its own package.json. Plugins that do not declare it are not Blast plugins (e.g. oclif's own)
 * unless they register one of Blast's events, which then requires the declaration.
 */
import type { Interfaces } from '@oclif/core';

type Config = Interfaces.Config;
import satisfies from 'semver/functions/satisfies.js';
import validRange from 'semver/ranges/valid.js';
import type { BlastHooks } from './hooks.js';

const BLAST_EVENTS: ReadonlySet<string> = new Set<keyof BlastHooks>([
  'shells',
  'preStart',
  'activate',
  'postStart',
  'preKill',
  'postKill',
  'check',
  'clean',
  'list',
  'preInstall',
  'postInstall',
]);

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
    if (typeof declared !== 'string' || !validRange(declared)) {
      found.push({
        name: plugin.name,
        reason: `its oclif.blast.apiVersion ${JSON.stringify(declared)} is not a semver range`,
      });
    } else if (!satisfies(core, declared)) {
      found.push({
        name: plugin.name,
        reason: `it needs Blast plugin API ${declared}, this Blast has ${core}`,
      });
    }
  }
  return found;
}
