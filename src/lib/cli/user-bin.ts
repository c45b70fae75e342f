/**
 * How the user runs Blast, for lines that go into their files: `blast` when the `blast` on PATH is
 * this installation (so the line survives a reinstall elsewhere on PATH), else the absolute path of
 * this installation's executable.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Env } from '../paths.js';

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The first executable `name` on PATH, like `command -v`. */
export function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue; // an empty entry means the current directory: not what a user's rc runs
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

export function userBin(root: string, env: Env, name = 'blast'): string {
  const own = join(root, 'bin', 'run.js');
  const found = onPath(name, env);
  const ownReal = real(own);
  return found !== undefined && ownReal !== undefined && real(found) === ownReal ? name : own;
}
