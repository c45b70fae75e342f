/**
 * Projects: plain `blast start` in a project's subdirectory uses the project's environment, found
 * as uv and poetry find theirs — the nearest ancestor of the current directory with a `.blast-env`
 * (one line: the name of a named environment, like `.python-version`) or a `.venv` (a directory
 * with pyvenv.cfg), stopping at the home directory or the file system's root. `blast start NAME
 * --here` writes the `.blast-env`.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { envNameProblem } from './names.js';
import type { Env } from '../paths.js';
import { shellArg } from '../shell/arg.js';

export const PROJECT_FILE = '.blast-env';

export type Project =
  /** `.blast-env` in `dir` names the named environment `name`. */
  | { kind: 'named'; dir: string; file: string; name: string }
  /** `dir/.venv` is a venv. */
  | { kind: 'venv'; dir: string; venv: string };

const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true;

/** The name a `.blast-env` holds; a BlastError naming the file when it holds none Blast can use. */
export function readProjectFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BlastError(`Cannot read ${file}: ${messageOf(error)}`, ExitCode.failure);
  }
  const name = text.split(/\r?\n/)[0]!.trim();
  const problem = name === '' ? 'it is empty' : envNameProblem(name);
  if (problem)
    throw new BlastError(
      `${file} does not name an environment: ${problem}.`,
      ExitCode.usage,
      `Write the name of a named environment on its first line (\`blast start NAME --here\` does), or remove it.`,
    );
  return name;
}

/**
 * The project around `cwd`: the nearest directory from `cwd` up with a `.blast-env` (first, at one
 * level: it is the explicit choice) or a `.venv/pyvenv.cfg`, up to the home directory (included)
 * or the root. Undefined when there is none.
 */
export function findProject(cwd: string, env: Env): Project | undefined {
  const home = env.HOME ? resolve(env.HOME) : undefined;
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, PROJECT_FILE);
    if (isFile(file)) return { kind: 'named', dir, file, name: readProjectFile(file) };
    const venv = join(dir, '.venv');
    if (isFile(join(venv, 'pyvenv.cfg'))) return { kind: 'venv', dir, venv };
    if (dir === home || dirname(dir) === dir) return undefined;
  }
}

/**
 * `--here`: refuse, before anything is done, a `.blast-env` in `dir` that names another
 * environment (unless `force`). True when it already names `name` (nothing to write).
 */
export function checkProjectFile(dir: string, name: string, force: boolean): boolean {
  const file = join(dir, PROJECT_FILE);
  if (!isFile(file)) {
    if (statSync(file, { throwIfNoEntry: false }))
      throw new BlastError(`${file} exists and is not a file; nothing was changed.`, ExitCode.usage);
    return false;
  }
  let current: string | undefined;
  try {
    current = readProjectFile(file);
  } catch {
    current = undefined; // unreadable or not a name: replaced only with --force too
  }
  if (current === name) return true;
  if (!force)
    throw new BlastError(
      `${file} already names ${current === undefined ? 'no usable environment' : JSON.stringify(current)}; nothing was changed.`,
      ExitCode.usage,
      `To make this project use ${name} instead: blast start ${shellArg(name)} --here --force`,
    );
  return false;
}

/** Write `dir/.blast-env` naming `name`, atomically (a reader sees the old file or the new one). */
export async function writeProjectFile(dir: string, name: string): Promise<string> {
  const { writeFileAtomic } = await import('../fs/atomic-write.js');
  const file = join(dir, PROJECT_FILE);
  writeFileAtomic(file, `${name}\n`, { mode: 'umask' });
  return file;
}
