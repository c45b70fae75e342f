#!/usr/bin/env node
// Copies the Python programs Blast runs inside interpreters (src/python/*.py) to dist/python/,
// where the built code reads them (src/lib/python/programs.ts). tsc copies only what it compiles.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src', 'python');
const to = join(root, 'dist', 'python');
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from))
  if (name.endsWith('.py')) copyFileSync(join(from, name), join(to, name));
