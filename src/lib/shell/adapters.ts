/**
 * Finding shell adapters. Shells are plugins: each answers the `shells` event with adapters; the
 * core picks one by name or alias. When two plugins offer the same name, a linked or
 * user-installed plugin wins over a bundled one (so a user can replace a shell), and the rest is
 * decided by plugin name so the choice never depends on hook timing.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { Interfaces } from '@oclif/core';
import type { ShellAdapter } from '../plugin-host/contract.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import { runPhase } from '../plugin-host/events.js';
import type { Env } from '../paths.js';
import { byText } from '../text-order.js';

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
  return provided.sort((a, b) => rank(a) - rank(b) || byText(a.plugin, b.plugin));
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

/**
 * A program as a shell name: `-bash` (a login shell's argv[0]), `/usr/bin/zsh`, `zsh-5.9` and
 * `zsh5` (versioned installs), `C:\…\pwsh.exe`, `PowerShell` → bash, zsh, zsh, zsh, pwsh,
 * powershell. Aliases (pwsh → powershell) are the adapters' business.
 */
export function shellName(program: string): string {
  const base = program.trim().split(/[\\/]/).pop() ?? '';
  const name = base
    .replace(/^-/, '')
    .replace(/\.exe$/i, '')
    .toLowerCase();
  return /^([a-z][a-z_]*?)-?\d+(?:\.\d+)*$/.exec(name)?.[1] ?? name;
}

/**
 * Programs that run Blast on someone else's behalf: the shell the user types in is further up.
 * `sh` is here because npm scripts and `system()` run through it; nobody uses Blast from plain sh.
 */
const LAUNCHERS = new Set([
  'node',
  'npm',
  'npx',
  'tsx',
  'env',
  'sudo',
  'doas',
  'sh',
  'dash',
  'nice',
  'nohup',
  'timeout',
  'time',
  'strace',
  'xargs',
]);
/** Programs that are never the user's shell: without `known`, they mean "ask $SHELL". */
const NOT_SHELLS = /^(tmux|screen|login|sshd|su|init|systemd|kthreadd)\b/;
/** Ancestors looked at before giving up on the process tree. */
const MAX_DEPTH = 6;

interface ProcessNames {
  /** Every name the process goes by, normalized: comm, argv[0], the executable. */
  names: string[];
  parent: number | undefined;
}

function readProcess(pid: number): ProcessNames | undefined {
  const read = (what: string) => {
    try {
      return readFileSync(`/proc/${pid}/${what}`, 'utf8');
    } catch {
      return undefined;
    }
  };
  const stat = read('stat');
  if (stat === undefined) return undefined;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  let exe: string | undefined;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    exe = undefined; // another user's process (sudo): not readable
  }
  const raw = [read('comm')?.trim(), read('cmdline')?.split('\0')[0], exe];
  const names = [...new Set(raw.filter((n): n is string => !!n).map(shellName))];
  return { names, parent: ppid > 0 ? ppid : undefined };
}

/**
 * The shell the user is typing in: the parent process (walking up through launchers such as
 * node, npm, sudo or `sh -c`), then $SHELL. With `known`, only a name some adapter answers to is
 * taken from the process tree (`tmux`, `sshd`, `vim` fall through to $SHELL); without it, the
 * first process that is not a launcher names the shell. Linux reads /proc; elsewhere only $SHELL.
 */
export function detectShell(
  env: Env,
  parentPid: number = process.ppid,
  known?: (name: string) => boolean,
): string | undefined {
  let pid: number | undefined = parentPid;
  for (let depth = 0; pid !== undefined && depth < MAX_DEPTH; depth++) {
    const proc = readProcess(pid);
    if (!proc) break;
    const found = known ? proc.names.find(known) : proc.names[0];
    if (found && !LAUNCHERS.has(found)) {
      if (known || !NOT_SHELLS.test(found)) return found;
      break;
    }
    if (!proc.names.some((n) => LAUNCHERS.has(n))) break;
    pid = proc.parent;
  }
  const fromEnv = env.SHELL ? shellName(env.SHELL) : undefined;
  return fromEnv && (!known || known(fromEnv)) ? fromEnv : undefined;
}

/** Where the user's shell comes from, for messages and --json. */
export type ShellSource = 'argument' | 'shell function' | 'detected';

/**
 * The adapter for `blast init` and friends: named by the user, else the shell function's own
 * (BLAST_SHELL, when run through it), else detected.
 */
export async function chooseShell(
  config: Config,
  env: Env,
  named?: string,
): Promise<{ adapter: ShellAdapter; source: ShellSource } | undefined> {
  if (named !== undefined) return { adapter: await findShell(config, named), source: 'argument' };
  if (env.BLAST_SHELL) return { adapter: await findShell(config, env.BLAST_SHELL), source: 'shell function' };
  const shells = await availableShells(config);
  const detected = detectShell(env, process.ppid, (name) => shells.some((s) => matches(s.adapter, name)));
  const found = detected ? shells.find((s) => matches(s.adapter, detected)) : undefined;
  return found ? { adapter: found.adapter, source: 'detected' } : undefined;
}
