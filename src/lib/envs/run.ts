/**
 * `blast run [NAME] -- CMD ...`: one command inside an environment without activating it — the
 * variables an activation would give it, under the environment's policy (the `wrap` event), on
 * the user's terminal, its exit status passed through.
 */
import { spawn } from 'node:child_process';
import { activate, activeState, revert, type Vars } from '../shell/activation.js';
import { type Context, type Loaded, loadEnv, resolveTarget } from './environments.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import { loadActive } from './target.js';
import { exitStatus } from '../cli/exit-status.js';
import { assertRunnable } from './health.js';

/**
 * NAME or --path, else the environment active in this shell, else the project's `.venv` (as
 * `blast start` without arguments). It must exist: `run` never creates one.
 */
export async function runTarget(
  name: string | undefined,
  pathFlag: string | undefined,
  ctx: Context,
): Promise<Loaded> {
  const loaded = await findTarget(name, pathFlag, ctx);
  // Its Python gone, `python` in the command would be another interpreter's, silently.
  assertRunnable(loaded.info);
  return loaded;
}

async function findTarget(
  name: string | undefined,
  pathFlag: string | undefined,
  ctx: Context,
): Promise<Loaded> {
  if (name === undefined && pathFlag === undefined) {
    const active = await loadActive(
      ctx,
      'Name a Blast environment: blast run NAME -- CMD, or blast run --path DIR -- CMD.',
    );
    if (active) return active;
  }
  const target = resolveTarget(name, pathFlag, ctx);
  const loaded = await loadEnv(target);
  if (loaded) return loaded;
  const how =
    target.kind === 'named'
      ? `blast start ${target.name}`
      : pathFlag === undefined
        ? 'blast start (makes the project .venv here)'
        : `blast start --path ${pathFlag}`;
  throw new BlastError(
    name === undefined && pathFlag === undefined
      ? `No environment is active and there is no ${target.path}.`
      : `There is no environment ${target.name} (${target.path}).`,
    ExitCode.notFound,
    `Create it first: ${how}; \`blast list\` shows the environments there are.`,
  );
}

/**
 * The variables the command gets: those of this process with whatever is active reverted, then
 * the environment activated on top (VIRTUAL_ENV, PATH, PYTHONHOME unset, the stored variables,
 * the pip shim first on PATH so pip inside is a Blast transaction).
 */
export function runEnvironment(current: Vars, loaded: Loaded, shim?: string): Record<string, string> {
  let baseline: Vars = current;
  try {
    const state = activeState(current);
    if (state) baseline = revert(current, state);
  } catch {
    // An unreadable activation is the shell's problem (`blast kill --force`), not this command's.
  }
  const target = activate(baseline, {
    env: loaded.info,
    variables: loaded.config.variables,
    extraVariables: {},
    extraPath: [],
    shim,
  });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(target)) if (value !== undefined) out[name] = value;
  return out;
}

const FORWARDED = ['SIGTERM', 'SIGHUP'] as const;
const LEFT_TO_CHILD = ['SIGINT', 'SIGQUIT'] as const;

/**
 * Run it on this terminal and resolve to its exit status, 128+N when signal N ended it (as
 * shells report it). ^C and ^\ reach the whole foreground group, so they are the command's to
 * handle; SIGTERM and SIGHUP sent to Blast alone are passed on.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  shown = command,
): Promise<number> {
  const ignore = () => {};
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env, cwd });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const forwarders = FORWARDED.map((signal) => [signal, forward(signal)] as const);
    for (const signal of LEFT_TO_CHILD) process.on(signal, ignore);
    for (const [signal, handler] of forwarders) process.on(signal, handler);
    const done = () => {
      for (const signal of LEFT_TO_CHILD) process.off(signal, ignore);
      for (const [signal, handler] of forwarders) process.off(signal, handler);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(
        error.code === 'ENOENT'
          ? new BlastError(`${shown}: command not found in the environment's PATH.`, 127)
          : new BlastError(`Cannot run ${shown}: ${error.message}`, 126),
      );
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(exitStatus(code, signal));
    });
  });
}
