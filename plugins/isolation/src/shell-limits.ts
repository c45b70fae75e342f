/**
 * Limits on the activated shell itself: `activate` lowers the shell's soft limits with
 * `prlimit --pid` (every command the shell starts inherits them) and keeps the values from before
 * in a variable the core records with the activation; `blast kill` (preKill) puts them back. Only
 * soft limits change, so putting them back needs no privilege (a soft limit may always rise to
 * its hard limit), and the user's hard limits are never touched.
 */
import type { ActivationContribution, StartEvent } from 'blast/contract';
import {
  capped,
  cpuSeconds,
  decodeSaved,
  encodeSaved,
  limitsOf,
  requirePrlimit,
  type Resource,
  RESOURCES,
  setSoft,
  userTasks,
  type Value,
  wanted,
} from './limits.js';
import { describe, formatBytes, type Policy, SAVED_VARIABLE } from './policy.js';

/** Threads `blast` itself (Node) and a pipeline around it need in a shell limited by max-procs. */
export const PROCS_HEADROOM = 16;

/**
 * Apply `policy`'s limits to the shell `event.shellPid`. `env` is the shell's environment as the
 * CLI inherited it: a previous activation's saved values there are the user's originals.
 */
export function limitShell(
  event: StartEvent,
  policy: Policy,
  env: NodeJS.ProcessEnv = process.env,
): ActivationContribution | undefined {
  const saved = decodeSaved(env[SAVED_VARIABLE]);
  const want = policy.level === 'limits' ? wanted(policy) : {};
  if (Object.keys(want).length === 0) {
    // Switching from a limited environment to one without limits: the shell gets its own back.
    if (Object.keys(saved).length > 0) setSoft(requirePrlimit(env), event.shellPid, saved);
    return undefined;
  }
  const prlimit = requirePrlimit(env);
  const current = limitsOf(event.shellPid);
  const notes: string[] = [];
  const uid = process.getuid?.() ?? 0;
  if (want.nproc !== undefined) {
    if (uid === 0) {
      notes.push(
        'isolation: max-procs is not enforced for root outside the sandbox (the kernel exempts root from RLIMIT_NPROC); processes of other users this shell starts are bounded.',
      );
    } else {
      const tasks = userTasks(uid);
      if (tasks + PROCS_HEADROOM > want.nproc) {
        throw new Error(
          `max-procs ${want.nproc} counts every process and thread of your user, and ${tasks} already run: this shell could not even start blast again. Raise it (blast config max-procs=${tasks + 4 * PROCS_HEADROOM}), or use --isolation sandbox, where only the sandbox's processes count.`,
        );
      }
    }
  }
  if (want.cpu !== undefined && cpuSeconds(event.shellPid) + 1 >= want.cpu) {
    throw new Error(
      `this shell has already used ${cpuSeconds(event.shellPid).toFixed(1)} s of CPU, and cpu-time ${want.cpu} would stop it at once; open a new shell or raise cpu-time.`,
    );
  }
  for (const resource of Object.keys(want) as Resource[]) {
    saved[resource] ??= current[resource].soft;
  }
  const soft: Partial<Record<Resource, Value>> = {};
  for (const resource of RESOURCES) {
    const value = want[resource];
    if (value !== undefined) soft[resource] = capped(value, current[resource].hard);
    else if (saved[resource] !== undefined) soft[resource] = saved[resource];
  }
  setSoft(prlimit, event.shellPid, soft);
  const shown = describe(policy).replace(/^limits ?/, '') || 'none';
  notes.unshift(`isolation: this shell now runs under ${shown}; \`blast kill\` restores its limits.`);
  if (soft.data !== undefined && soft.data !== String(want.data ?? '')) {
    notes.push(`isolation: memory capped at this shell's hard limit, ${formatBytes(Number(soft.data))}.`);
  }
  return { set: { [SAVED_VARIABLE]: encodeSaved(saved) }, notes };
}

/** `blast kill`: the shell's soft limits as they were before the first activation. */
export function restoreShell(
  shellPid: number,
  envPath: string,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const saved = decodeSaved(env[SAVED_VARIABLE]);
  if (Object.keys(saved).length === 0) return false;
  // The end of a sandboxed subshell opened from a shell where another environment is still
  // active: that one's limits stay until its own kill.
  if (env.VIRTUAL_ENV !== undefined && env.VIRTUAL_ENV !== envPath) return false;
  setSoft(requirePrlimit(env), shellPid, saved);
  return true;
}
