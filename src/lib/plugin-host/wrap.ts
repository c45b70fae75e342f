/**
 * The `wrap` event: a plugin may start a process Blast runs inside an environment (`blast run`,
 * the activated subshell, every pip: purpose `install`, API 1.6) under another command — bubblewrap, prlimit. Wrappers do not compose
 * (handlers run in parallel, each sees the original command), so two is an error naming both.
 */
import type { Interfaces } from '@oclif/core';
import type { WrapEvent } from './contract.js';
import { BlastError } from '../cli/errors.js';
import { runPhase } from './events.js';

export interface Wrapped {
  command: string;
  args: string[];
  /** Variables the wrapper adds (empty when nothing wrapped it). */
  env: Record<string, string>;
  /** The plugin that wrapped it, when one did. */
  plugin?: string;
}

export async function wrapProcess(config: Interfaces.Config, event: WrapEvent): Promise<Wrapped> {
  const { results } = await runPhase(config, 'wrap', event, 'require');
  const wrappers = results.filter((r) => r.result);
  if (wrappers.length > 1) {
    throw new BlastError(
      `Plugins ${wrappers.map((w) => w.plugin).join(' and ')} both want to wrap the ${event.purpose === 'run' ? 'command' : event.purpose === 'install' ? 'pip process' : 'subshell'}; only one may.`,
    );
  }
  const [only] = wrappers;
  if (!only?.result) return { command: event.command, args: [...event.args], env: {} };
  const { command, args, env } = only.result;
  if (typeof command !== 'string' || command === '' || !Array.isArray(args)) {
    throw new BlastError(`Plugin ${only.plugin} returned an invalid wrapper for the ${event.purpose}.`);
  }
  return { command, args: [...args], env: { ...(env ?? {}) }, plugin: only.plugin };
}
