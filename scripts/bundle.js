// Bundles the activation's lean path (dist/lib/host/lean.js and what it imports of the core) into
// dist/lean/: Node 20 loads each ES module separately (resolve, read, compile, link), and for the
// thirty-odd modules of `blast start` that costs as much as Node's own start-up. Parts loaded only
// now and then (creation, recovery) stay in chunks of their own, loaded when used. Packages in
// node_modules and plugins stay outside: they are loaded as oclif would load them.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'lean');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'lib', 'host', 'lean.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
console.log('bundle: dist/lean/lean.js');
