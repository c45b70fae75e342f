/**
 * Plugins' additions to an activation (the `activate` event), merged deterministically. Two
 * plugins giving one variable different values is an error naming both: silently picking one
 * would depend on hook timing.
 */
import type { Interfaces } from '@oclif/core';
import type { StartEvent } from './contract.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import { RESERVED_VARIABLES } from '../envs/names.js';
import { runPhase } from './events.js';

export interface Contributions {
  extraVariables: Record<string, string>;
  extraPath: string[];
  notes: string[];
  /** Why the activation needs its own subshell, when a plugin says so (reasons of several joined). */
  subshell?: string;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * BLAST_* names the core itself sets or reads (a plugin setting one would steer the core: where its
 * home is, what to restore at kill, whether the user said yes, where to crash). Plugins may use
 * other BLAST_* names for their own state (the daemon's BLAST_SOCKET, isolation's
 * BLAST_LIMITS_SAVED). test/contract.test.ts checks that every BLAST_* name the core's code
 * mentions is listed here.
 */
export const CORE_BLAST_VARIABLES: ReadonlySet<string> = new Set([
  'BLAST_ENV',
  'BLAST_SHELL_STATE',
  'BLAST_SHELL',
  'BLAST_SHELL_SCRIPT',
  'BLAST_SHELL_PID',
  'BLAST_SHELL_INIT',
  'BLAST_AUTO',
  'BLAST_HOME',
  'BLAST_CACHE_DIR',
  'BLAST_DEBUG',
  'BLAST_KEEP_REVISIONS',
  'BLAST_LINK_MODE',
  'BLAST_OCI_CHUNK_BYTES',
  'BLAST_SEED_SPARES',
  'BLAST_STORE_GC_GRACE_S',
  'BLAST_SUBSHELL',
  'BLAST_TEST_CRASH_AT',
  'BLAST_TEST_PAUSE_AT',
  'BLAST_TEST_PAUSE_FILE',
  'BLAST_TIMING',
  'BLAST_TRANSACTION',
  'BLAST_VARIABLES',
  'BLAST_YES',
]);

function contributedNameProblem(name: string): string | undefined {
  if (!VARIABLE.test(name)) return 'not a valid variable name';
  if (RESERVED_VARIABLES.has(name) || CORE_BLAST_VARIABLES.has(name)) return 'the core manages it';
  // Shell adapters keep their own state in _BLAST* shell variables.
  if (name.startsWith('_BLAST')) return 'names starting with _BLAST belong to shell adapters';
  return undefined;
}

/**
 * Why a `pathPrepend` entry cannot go on PATH, if it cannot: an empty entry (or a relative one)
 * means a directory relative to wherever the shell is, so running a command would run whatever
 * file of that name the current directory has; a `:` would split it into several entries.
 */
export function pathEntryProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return 'not a string';
  if (entry === '') return 'it is empty (an empty PATH entry means the current directory)';
  if (entry.includes(':')) return 'it contains ":" (the PATH separator)';
  if (entry.includes('\0')) return 'it contains a NUL byte';
  if (!entry.startsWith('/'))
    return 'it is not an absolute path (a relative one depends on the current directory)';
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
    const prepend: unknown = result.pathPrepend ?? [];
    if (!Array.isArray(prepend))
      throw new BlastError(`Plugin ${plugin} gave a pathPrepend that is not a list.`);
    for (const entry of prepend as unknown[]) {
      const problem = pathEntryProblem(entry);
      if (problem)
        throw new BlastError(
          `Plugin ${plugin} tried to put ${JSON.stringify(entry)} on PATH: ${problem}.`,
          ExitCode.failure,
          `Nothing was activated. Report it to the plugin's author, or remove it with \`blast plugins uninstall ${plugin}\`.`,
        );
      merged.extraPath.push(entry as string);
    }
    merged.notes.push(...(result.notes ?? []));
    if (typeof result.subshell === 'string' && result.subshell !== '') {
      merged.subshell = merged.subshell ? `${merged.subshell}; ${result.subshell}` : result.subshell;
    }
  }
  return merged;
}
