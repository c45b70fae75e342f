/**
 * How a process Blast starts inside an environment runs under its policy (the `wrap` event):
 * `limits` → prlimit around it, `sandbox` → bubblewrap around prlimit around it.
 */
import type { ProcessWrapper, WrapEvent } from 'blast/contract';
import { commandLimits, decodeSaved, requirePrlimit, RESOURCES, userTasks, wanted } from './limits.js';
import { type Policy, policyOf, SANDBOX_VARIABLE, SAVED_VARIABLE } from './policy.js';
import { bwrapArgs, requireSandbox } from './sandbox.js';

export function wrapperFor(
  event: WrapEvent,
  env: NodeJS.ProcessEnv = process.env,
  programs: readonly string[] = [],
): ProcessWrapper | undefined {
  const policy = policyOf(event.env.settings);
  // Already inside this environment's sandbox (blast run from the sandboxed subshell): what
  // could be applied is applied, and bubblewrap cannot nest without privileges.
  if (env[SANDBOX_VARIABLE] === event.env.path) return undefined;
  const limits = policy.level === 'none' ? [] : commandLimits(policy);
  // The calling shell may carry the limits an activation of another environment put on it: the
  // resources this policy leaves alone go back to the user's own, as an activation would do.
  const want = policy.level === 'none' ? {} : wanted(policy);
  const saved = decodeSaved(env[SAVED_VARIABLE]);
  const restore = RESOURCES.filter((r) => want[r] === undefined && saved[r] !== undefined).map(
    (r) => `--${r}=${saved[r]}:`,
  );
  if (policy.level !== 'sandbox') {
    // The subshell activates itself through the shell function, and that activation sets (and
    // `blast kill` restores) the shell's limits; wrapping it too would make kill restore the
    // wrapper's values instead of the user's.
    if (event.purpose === 'subshell' || limits.length + restore.length === 0) return undefined;
    checkUserTasks(policy);
    return {
      command: requirePrlimit(env),
      args: [...limits, ...restore, '--', event.command, ...event.args],
    };
  }
  const bwrap = requireSandbox(policy, env);
  const inner = limits.length + restore.length ? [requirePrlimit(env), ...limits, ...restore, '--'] : [];
  const args = bwrapArgs(policy, {
    envPath: event.env.path,
    cwd: event.cwd,
    home: env.HOME,
    readable: event.readable ?? [],
    runtimeDir: env.XDG_RUNTIME_DIR,
    programs,
  });
  return {
    command: bwrap,
    args: [...args, '--', ...inner, event.command, ...event.args],
    env: { [SANDBOX_VARIABLE]: event.env.path },
  };
}

/**
 * Outside the sandbox max-procs counts every process and thread of the user (root is exempt):
 * with as many running already, the command could not start a single process.
 */
function checkUserTasks(policy: Policy): void {
  const uid = process.getuid?.() ?? 0;
  if (policy.level !== 'limits' || policy.maxProcs === undefined || uid === 0) return;
  const tasks = userTasks(uid);
  if (tasks >= policy.maxProcs) {
    throw new Error(
      `max-procs ${policy.maxProcs} counts every process and thread of your user, and ${tasks} already run: the command could not start any. Raise it, or use isolation=sandbox, where only the sandbox's processes count.`,
    );
  }
}
