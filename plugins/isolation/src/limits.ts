/**
 * Resource limits through util-linux `prlimit`: on a running process (the activated shell, whose
 * soft limits every command it starts inherits) or around a command (`blast run`, the sandbox).
 *
 * Why these resources: `memory` is RLIMIT_DATA, not RLIMIT_AS — Node (Blast itself, run from the
 * limited shell) reserves gigabytes of address space it never uses and dies under a small
 * RLIMIT_AS, while RLIMIT_DATA counts what a process really allocates (heap and private maps,
 * Linux ≥ 4.7), so Python gets a MemoryError past it and Node still starts. `max-procs` is
 * RLIMIT_NPROC, which the kernel counts per real user (threads included) and does not enforce for
 * root; inside the sandbox (its own user namespace) only the sandbox's processes count.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Policy } from './policy.js';
import { findExecutable } from './which.js';

export type Resource = 'data' | 'nproc' | 'cpu';
export const RESOURCES: readonly Resource[] = ['data', 'nproc', 'cpu'];

/** The row of /proc/PID/limits for each resource. */
const ROWS: Record<Resource, string> = {
  data: 'Max data size',
  nproc: 'Max processes',
  cpu: 'Max cpu time',
};

/** A limit as prlimit takes it: a number or `unlimited`. */
export type Value = string;
export interface Limit {
  soft: Value;
  hard: Value;
}

/** The policy's value for each resource it limits. */
export function wanted(policy: Policy): Partial<Record<Resource, number>> {
  const out: Partial<Record<Resource, number>> = {};
  if (policy.memory !== undefined) out.data = policy.memory;
  if (policy.maxProcs !== undefined) out.nproc = policy.maxProcs;
  if (policy.cpuTime !== undefined) out.cpu = policy.cpuTime;
  return out;
}

/** The limits of a process (`self` or a pid) from /proc, which the same user may read. */
export function limitsOf(pid: number | 'self'): Record<Resource, Limit> {
  const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const out = {} as Record<Resource, Limit>;
  for (const resource of RESOURCES) {
    const line = text.split('\n').find((l) => l.startsWith(ROWS[resource]));
    const fields = line?.slice(ROWS[resource].length).trim().split(/\s+/);
    if (!fields || fields.length < 2) throw new Error(`cannot read ${ROWS[resource]} of process ${pid}`);
    out[resource] = { soft: fields[0]!, hard: fields[1]! };
  }
  return out;
}

/** The smaller of a wanted value and a hard limit: a soft limit may not go above its hard one. */
export function capped(value: number, hard: Value): Value {
  return hard === 'unlimited' || value <= Number(hard) ? String(value) : hard;
}

export function prlimitPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findExecutable('prlimit', env);
}

export function requirePrlimit(env: NodeJS.ProcessEnv = process.env): string {
  const path = prlimitPath(env);
  if (!path) {
    throw new Error(
      'resource limits need prlimit (util-linux), which is not on PATH. Install it: apt-get install util-linux (Debian/Ubuntu), dnf install util-linux (Fedora).',
    );
  }
  return path;
}

/**
 * Arguments that make prlimit run a command under the policy's limits, as hard limits too (the
 * command cannot raise them again), each capped at the hard limit this process already has.
 */
export function commandLimits(policy: Policy, own = limitsOf('self')): string[] {
  return Object.entries(wanted(policy)).map(([resource, value]) => {
    const hardNow = own[resource as Resource].hard;
    const soft = capped(value, hardNow);
    // CPU: SIGXCPU at the soft limit (a process may catch it to clean up), SIGKILL a second later;
    // with both equal the kernel sends SIGKILL straight away.
    const hard = resource === 'cpu' ? capped(value + 1, hardNow) : soft;
    return `--${resource}=${soft}:${hard}`;
  });
}

/** Set soft limits of a running process, leaving its hard limits alone. */
export function setSoft(prlimit: string, pid: number, soft: Partial<Record<Resource, Value>>): void {
  const args = Object.entries(soft).map(([resource, value]) => `--${resource}=${value}:`);
  if (args.length === 0) return;
  try {
    execFileSync(prlimit, ['--pid', String(pid), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`cannot set the limits of process ${pid}: ${stderr || (error as Error).message}`);
  }
}

/** The saved soft limits as one safe variable value: `data=unlimited,nproc=96365`. */
export function encodeSaved(saved: Partial<Record<Resource, Value>>): string {
  return RESOURCES.filter((r) => saved[r] !== undefined)
    .map((r) => `${r}=${saved[r]}`)
    .join(',');
}

export function decodeSaved(text: string | undefined): Partial<Record<Resource, Value>> {
  const out: Partial<Record<Resource, Value>> = {};
  for (const part of (text ?? '').split(',')) {
    const match = /^(data|nproc|cpu)=(unlimited|\d+)$/.exec(part);
    if (match) out[match[1] as Resource] = match[2]!;
  }
  return out;
}

/**
 * Processes and threads of this real user on the machine: what RLIMIT_NPROC is compared with.
 * Processes that vanish while being read are skipped.
 */
export function userTasks(uid = process.getuid?.() ?? 0): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (real !== String(uid)) continue;
    count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
  }
  return count;
}

/** CPU seconds a process has used (user + system), from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain anything.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14 and 15)
  return ticks / 100; // USER_HZ is 100 on Linux
}
