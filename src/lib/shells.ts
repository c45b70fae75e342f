/**
 * Finding shell adapters. Shells are plugins: each answers the `shells` event with adapters; the
 * core picks one by name or alias. When two plugins offer the same name, a linked or
 * user-installed plugin wins over a bundled one (so a user can replace a shell), and the rest is
 * decided by plugin name so the choice never depends on hook timing.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Interfaces } from '@oclif/core';
import type { ShellAdapter } from './hooks.js';
import { BlastError, ExitCode } from './errors.js';
import { runPhase } from './phases.js';
import type { Env } from './paths.js';

type Config = Interfaces.Config;

export interface ProvidedShell {
  adapter: ShellAdapter;
  plugin: string;
}

const RANK: Record<string, number> = { link: 0, user: 1, core: 2 };

export async function availableShells(config: Config): Promise<ProvidedShell[]> {
  const { results } = await runPhase(config, 'shells', {}, 'inform');
  const provided: ProvidedShell[] = [];
  for (const { plugin, result } of results) {
    for (const adapter of Array.isArray(result) ? result : []) provided.push({ adapter, plugin });
  }
  const rank = (p: ProvidedShell) => RANK[config.plugins.get(p.plugin)?.type ?? 'core'] ?? 3;
  return provided.sort((a, b) => rank(a) - rank(b) || a.plugin.localeCompare(b.plugin));
}

function matches(adapter: ShellAdapter, name: string): boolean {
  return adapter.name === name || (adapter.aliases ?? []).includes(name);
}

export async function findShell(config: Config, name: string): Promise<ShellAdapter> {
  const shells = await availableShells(config);
  const found = shells.find((s) => matches(s.adapter, name));
  if (found) return found.adapter;
  const known = shells.map((s) => s.adapter.name).join(', ') || 'none (no shell plugin is installed)';
  throw new BlastError(
    `Blast has no adapter for the shell ${JSON.stringify(name)}. Known shells: ${known}.`,
    ExitCode.usage,
  );
}

/** A login shell's argv[0] is "-bash"; an absolute path names the program too. */
function shellName(program: string): string {
  return basename(program.replace(/^-/, ''));
}

/** The shell the user is typing in: the parent process, then $SHELL. */
export function detectShell(env: Env, parentPid: number = process.ppid): string | undefined {
  try {
    const comm = readFileSync(`/proc/${parentPid}/comm`, 'utf8').trim();
    if (comm && !['node', 'npm', 'npx', 'sh', 'env', 'tmux', 'sudo', 'login'].includes(comm))
      return shellName(comm);
  } catch {
    // No /proc (macOS): fall back to $SHELL.
  }
  return env.SHELL ? shellName(env.SHELL) : undefined;
}
