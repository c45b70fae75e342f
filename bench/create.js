// One venv through Blast's library only (no CLI): `node bench/create.js DIR PYTHON BLAST_HOME`.
// Prints JSON with the in-process times, so the bench can tell Node startup from creation.
import { performance } from 'node:perf_hooks';

const [dir, python, home] = process.argv.slice(2);
if (!dir || !python || !home) {
  process.stderr.write('usage: node bench/create.js DIR PYTHON BLAST_HOME\n');
  process.exit(2);
}
const t0 = performance.now();
const { findPython } = await import('../dist/lib/python/index.js');
const { createVenv } = await import('../dist/lib/venv/index.js');
const t1 = performance.now();
const env = { ...process.env, BLAST_HOME: home };
const interpreter = await findPython(python, { env, cwd: process.cwd() });
const t2 = performance.now();
await createVenv(dir, interpreter, { env });
const t3 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, findMs: t2 - t1, createMs: t3 - t2 }) + '\n');
