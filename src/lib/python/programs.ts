/**
 * The Python programs Blast runs inside interpreters (`python -c <program>`) are real files,
 * src/python/*.py, shipped as dist/python/*.py (the build copies them: scripts/copy-python.js),
 * linted and tested as Python. Each is read once per process, on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PythonProgram = 'probe' | 'seed_build' | 'seed_spares' | 'lock_interpreter';

const texts = new Map<PythonProgram, string>();

/**
 * The `python/` folder beside this module's tree: src/python under tsx, dist/python once built.
 * Looked for upwards from here, so the module may live at any depth of src/lib.
 */
function programsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'python', 'probe.py'))) return join(dir, 'python');
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`Blast's Python programs (python/probe.py) are missing above ${import.meta.url}`);
    dir = up;
  }
}

let where: string | undefined;

/** The source of one of Blast's Python programs. */
export function pythonProgram(name: PythonProgram): string {
  let text = texts.get(name);
  if (text === undefined) {
    where ??= programsDir();
    text = readFileSync(join(where, `${name}.py`), 'utf8');
    texts.set(name, text);
  }
  return text;
}
