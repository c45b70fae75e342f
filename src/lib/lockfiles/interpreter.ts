/**
 * What only the environment's interpreter can say: whether environment markers hold, and which
 * wheel tags it accepts (best first). Asked once (src/python/lock_interpreter.py), through the
 * packaging library pip vendors, so markers and tags mean exactly what they mean to the pip that installs.
 */
import { BlastError } from '../cli/errors.js';
import type { Env } from '../paths.js';
import { pythonProgram } from '../python/programs.js';
import { runPython, tail } from './pip.js';

export interface InterpreterFacts {
  /** Marker → whether it holds (a string: why it could not be evaluated). */
  markers: Record<string, boolean | string>;
  /** Accepted wheel tags, most preferred first. */
  tags: string[];
  python: string;
}

export async function interpreterFacts(
  envPath: string,
  ask: { markers: string[]; tags: boolean },
  env: Env = process.env,
): Promise<InterpreterFacts> {
  const run = await runPython(envPath, ['-I', '-c', pythonProgram('lock_interpreter')], {
    env,
    input: JSON.stringify(ask),
  });
  if (run.status !== 0) {
    throw new BlastError(
      `The environment's Python could not evaluate the lock's markers:\n${tail(run.stderr)}`,
    );
  }
  return JSON.parse(run.stdout) as InterpreterFacts;
}
