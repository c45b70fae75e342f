/**
 * Whether an environment can run at all: its `bin/python` and the base interpreter pyvenv.cfg's
 * `home` names must exist. When they do not, activating it would let `python` silently run
 * whatever interpreter comes next on PATH, so `blast start` and `blast run` refuse instead. On the
 * hot path of every start: two stat calls and one small read, no process.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { EnvInfo } from '../plugin-host/contract.js';
import { shQuote } from '../transaction/shim.js';
import { readVenv } from '../venv/cfg.js';

const exists = (path: string) => statSync(path, { throwIfNoEntry: false }) !== undefined;

/** Why the environment cannot run its Python, or undefined when it can. */
export function brokenProblem(info: Pick<EnvInfo, 'path' | 'python'>): string | undefined {
  const python = join(info.path, 'bin', 'python');
  // stat follows the links bin/python is made of: a dangling one is as gone as a missing one.
  if (!exists(python)) {
    return exists(info.python.executable)
      ? `its ${python} is gone`
      : `its ${python} is gone with the interpreter it was made from (${info.python.executable})`;
  }
  const { home } = readVenv(info.path);
  if (!exists(home)) return `the base interpreter's directory its pyvenv.cfg names (home = ${home}) is gone`;
  return undefined;
}

/** Refuse an environment whose Python is gone, with the way to make it again. */
export function assertRunnable(info: EnvInfo): void {
  const problem = brokenProblem(info);
  if (!problem) return;
  const minor = /^\d+\.\d+/.exec(info.python.version)?.[0] ?? info.python.version;
  const word = (value: string) => (/^[\w./@%+=:,-]+$/.test(value) ? value : shQuote(value));
  const again =
    info.kind === 'named'
      ? `blast clean ${word(info.name)} --yes, then blast start ${word(info.name)} --python ${minor}`
      : `remove ${word(info.path)}, then blast start --path ${word(info.path)} --python ${minor}`;
  throw new BlastError(
    `${info.name} cannot run Python: ${problem}.`,
    ExitCode.failure,
    `Recreate it with a Python that exists (any version: --python takes a version, a path or a spec): ${again}.`,
  );
}
