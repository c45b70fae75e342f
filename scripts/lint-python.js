#!/usr/bin/env node
// Lints Blast's Python programs (src/python/*.py) as Python: each must compile with python3 and,
// where the machine has one, with python2.7 (the probe runs on 2.7 to reject it with a reason).
// compile() only: nothing runs, and no __pycache__ is written into src/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'python');
const files = readdirSync(dir)
  .filter((n) => n.endsWith('.py'))
  .map((n) => join(dir, n));
const check = 'import sys\nfor f in sys.argv[1:]:\n    compile(open(f).read(), f, "exec")\n';
let failed = false;
for (const python of ['python3', 'python2.7']) {
  // An optional interpreter is used only where it runs (a pyenv shim may name an unselected one).
  if (python !== 'python3' && spawnSync(python, ['-c', 'pass']).status !== 0) continue;
  const run = spawnSync(python, ['-c', check, ...files], { encoding: 'utf8' });
  if (run.status !== 0) {
    failed = true;
    process.stderr.write(`${python}: ${run.error?.message ?? run.stderr}`);
  }
}
if (failed) process.exit(1);
console.log(`python: ${files.length} programs compile`);
