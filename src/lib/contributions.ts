/**
 * Plugins' additions to an activation (the `activate` event), merged deterministically. Two
 * plugins giving one variable different values is an error naming both: silently picking one
 * would depend on hook timing.
 */
import type { Interfaces } from '@oclif/core';
import type { StartEvent } from './hooks.js';
import { BlastError } from './errors.js';
import { RESERVED_VARIABLES } from './names.js';
import { runPhase } from './phases.js';

export interface Contributions {
  extraVariables: Record<string, string>;
  extraPath: string[];
  notes: string[];
}

export async function collectActivation(
  config: Interfaces.Config,
  event: StartEvent,
): Promise<Contributions> {
  const { results } = await runPhase(config, 'activate', event, 'require');
  const merged: Contributions = { extraVariables: {}, extraPath: [], notes: [] };
  const owner: Record<string, string> = {};
  for (const { plugin, result } of results) {
    if (!result) continue;
    for (const [name, value] of Object.entries(result.set ?? {})) {
      if (RESERVED_VARIABLES.has(name) || name === 'BLAST_SHELL_STATE' || name === 'BLAST_ENV') {
        throw new BlastError(`Plugin ${plugin} tried to set ${name}, which the core manages.`);
      }
      if (name in merged.extraVariables && merged.extraVariables[name] !== value) {
        throw new BlastError(`Plugins ${owner[name]} and ${plugin} both set ${name}, to different values.`);
      }
      merged.extraVariables[name] = value;
      owner[name] = plugin;
    }
    merged.extraPath.push(...(result.pathPrepend ?? []));
    merged.notes.push(...(result.notes ?? []));
  }
  return merged;
}
