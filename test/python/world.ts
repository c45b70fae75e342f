/**
 * Test worlds built from the interpreters this machine really has: a fake PYENV_ROOT whose
 * versions/ link to them, a shims dir, a bin dir standing in for the system, and a private
 * BLAST_HOME. Nothing here names a version or a path: everything comes from discovery.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listInterpreters } from '../../src/lib/python/index.js';
import type { Interpreter } from '../../src/lib/python/index.js';

let real: Promise<Interpreter[]> | undefined;

/** What the machine has (discovered once per test run, with a private cache). */
export function machineInterpreters(): Promise<Interpreter[]> {
  real ??= (async () => {
    const home = mkdtempSync(join(tmpdir(), 'blast-machine-'));
    try {
      return await listInterpreters({ env: { ...process.env, BLAST_HOME: home }, cwd: process.cwd() });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  })();
  return real;
}

/** Supported interpreters, one per version, oldest first. */
export async function supportedByVersion(): Promise<Interpreter[]> {
  const seen = new Set<string>();
  const out: Interpreter[] = [];
  for (const i of [...(await machineInterpreters())].reverse()) {
    if (!i.supported || seen.has(i.version)) continue;
    seen.add(i.version);
    out.push(i);
  }
  return out;
}

export interface World {
  root: string;
  pyenvRoot: string;
  shims: string;
  /** Stands in for /usr/bin: put links here with addSystem. */
  systemBin: string;
  blastHome: string;
  env: Record<string, string>;
  /** Link `versions/<name>/bin/<exe>` to a real interpreter. */
  addVersion(name: string, interp: Interpreter, exe?: string): string;
  /** Link `<systemBin>/<name>` to a real interpreter. */
  addSystem(name: string, interp: Interpreter): string;
  /** A pyenv shim file (never run by Blast) for `name`. */
  addShim(name: string): void;
  cleanup(): void;
}

export function makeWorld(): World {
  const root = mkdtempSync(join(tmpdir(), 'blast-world-'));
  const pyenvRoot = join(root, 'pyenv');
  const shims = join(pyenvRoot, 'shims');
  const systemBin = join(root, 'usr', 'bin');
  const blastHome = join(root, 'blast-home');
  for (const d of [shims, join(pyenvRoot, 'versions'), systemBin, join(root, 'home')])
    mkdirSync(d, { recursive: true });
  const env: Record<string, string> = {
    PATH: [shims, systemBin].join(':'),
    HOME: join(root, 'home'),
    PYENV_ROOT: pyenvRoot,
    BLAST_HOME: blastHome,
  };
  return {
    root,
    pyenvRoot,
    shims,
    systemBin,
    blastHome,
    env,
    addVersion(name, interp, exe = 'python3') {
      const bin = join(pyenvRoot, 'versions', name, 'bin');
      mkdirSync(bin, { recursive: true });
      const path = join(bin, exe);
      symlinkSync(interp.realpath, path);
      return path;
    },
    addSystem(name, interp) {
      const path = join(systemBin, name);
      symlinkSync(interp.realpath, path);
      return path;
    },
    addShim(name) {
      const path = join(shims, name);
      // Like a real shim: a bash script that would run pyenv. Blast must resolve it, not run it.
      writeFileSync(path, `#!/usr/bin/env bash\necho "shim ${name} must not run" >&2\nexit 97\n`);
      chmodSync(path, 0o755);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
