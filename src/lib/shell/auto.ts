/**
 * Auto-activation (`blast init SHELL --auto`): the rules. The shell's prompt hook only finds the
 * project directory (pure shell, see AutoHookSpec) and, when it changed, calls `blast auto DIR`;
 * what happens then is decided here.
 *
 * A project is the nearest directory from $PWD up, below $HOME (or `/`), with `.blast-env` (one
 * line: a named environment's name) or `.venv/pyvenv.cfg` (that venv); `.blast-env` wins when a
 * directory has both.
 *
 * The environment the hook started carries BLAST_AUTO=<project dir>, recorded like any variable
 * of the activation, so `blast kill` and a switch drop it. Hence the rules, like direnv's and
 * mise's "the shell you set up by hand is yours":
 * - entering a project (or moving to another one) starts its environment, switching from the one
 *   the hook started;
 * - leaving every project kills the environment the hook started;
 * - an environment started by hand (no BLAST_AUTO) is never switched or killed by the hook:
 *   `blast kill` it and the hook takes over again at the next project change;
 * - a manual `blast kill` inside a project holds until the project changes (the hook only acts
 *   on a change);
 * - a project whose environment cannot start says why once, and the shell stays as it was.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { AutoHookSpec } from '../plugin-host/contract.js';
import { activeState, type Vars } from './activation.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import { envNameProblem } from '../envs/names.js';
import { envsDir } from '../paths.js';

export const AUTO_VARIABLE = 'BLAST_AUTO';
export const PROJECT_FILE = '.blast-env';
export const PROJECT_VENV = join('.venv', 'pyvenv.cfg');

export const AUTO_HOOK: AutoHookSpec = { markers: [PROJECT_FILE, PROJECT_VENV], command: ['auto'] };

export type AutoAction =
  { kind: 'none' } | { kind: 'kill' } | { kind: 'start'; args: string[]; project: string };

const isFile = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** `blast start`'s arguments (after `start`) for the project at `root`. */
export function projectStart(root: string, env: Vars): string[] {
  const file = join(root, PROJECT_FILE);
  if (isFile(file)) {
    let name: string;
    try {
      name = (readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '').trim();
    } catch (error) {
      throw new BlastError(`Cannot read ${file}: ${(error as Error).message}`, ExitCode.failure);
    }
    const problem = envNameProblem(name);
    if (problem)
      throw new BlastError(
        `${file} does not name an environment: ${problem}.`,
        ExitCode.failure,
        'Write the environment’s name on its first line (`blast start NAME --here` does).',
      );
    // The hook never creates an environment: entering a directory must not build one.
    if (!isFile(join(envsDir(env), name, 'pyvenv.cfg')))
      throw new BlastError(
        `${file} names the environment ${JSON.stringify(name)}, which does not exist.`,
        ExitCode.notFound,
        `Create it with \`blast start ${name}\`, or correct ${PROJECT_FILE}.`,
      );
    return [name];
  }
  if (isFile(join(root, PROJECT_VENV))) return ['--path', join(root, '.venv')];
  throw new BlastError(
    `${root} has neither ${PROJECT_FILE} nor ${PROJECT_VENV}: it is no project.`,
    ExitCode.usage,
  );
}

/** What the hook's call for `project` ('' or undefined: no project) does in a shell with `env`. */
export function autoAction(project: string | undefined, env: Vars): AutoAction {
  let active: boolean;
  try {
    active = activeState(env) !== undefined;
  } catch {
    return { kind: 'none' }; // an unreadable state is `blast kill --force`'s business, not the hook's
  }
  const auto = env[AUTO_VARIABLE];
  if (active && auto === undefined) return { kind: 'none' };
  if (!project) return active ? { kind: 'kill' } : { kind: 'none' };
  if (!isAbsolute(project))
    throw new BlastError(
      `blast auto needs an absolute directory, not ${JSON.stringify(project)}.`,
      ExitCode.usage,
    );
  if (active && auto === project) return { kind: 'none' };
  return { kind: 'start', args: projectStart(project, env), project };
}
