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
  /** Why the activation needs its own subshell, when a plugin says so (reasons of several joined). */
  subshell?: string;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** BLAST_* names the core itself sets or reads; plugins may use other BLAST_* names (BLAST_SOCKET…). */
const CORE_BLAST_VARIABLES = new Set([
  'BLAST_ENV',
  'BLAST_SHELL_STATE',
  'BLAST_SHELL',
  'BLAST_SHELL_SCRIPT',
  'BLAST_SHELL_PID',
  'BLAST_HOME',
]);

function contributedNameProblem(name: string): string | undefined {
  if (!VARIABLE.test(name)) return 'not a valid variable name';
  if (RESERVED_VARIABLES.has(name) || CORE_BLAST_VARIABLES.has(name)) return 'the core manages it';
  // Shell adapters keep their own state in _BLAST* shell variables.
  if (name.startsWith('_BLAST')) return 'names starting with _BLAST belong to shell adapters';
  return undefined;
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
      const problem = contributedNameProblem(name);
      if (problem) throw new BlastError(`Plugin ${plugin} tried to set ${JSON.stringify(name)}: ${problem}.`);
      if (name in merged.extraVariables && merged.extraVariables[name] !== value) {
        throw new BlastError(`Plugins ${owner[name]} and ${plugin} both set ${name}, to different values.`);
      }
      merged.extraVariables[name] = value;
      owner[name] = plugin;
    }
    merged.extraPath.push(...(result.pathPrepend ?? []));
    merged.notes.push(...(result.notes ?? []));
    if (typeof result.subshell === 'string' && result.subshell !== '') {
      merged.subshell = merged.subshell ? `${merged.subshell}; ${result.subshell}` : result.subshell;
    }
  }
  return merged;
}
