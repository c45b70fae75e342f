/**
 * A private BLAST_HOME, venvs made by Blast's own createVenv with this machine's newest supported
 * interpreter, and tiny wheels: alpha 1.0 and 2.0 (a module, a console script; 2.0 adds a
 * subpackage) and beta 1.0. pip runs offline from the wheels dir, ignoring the machine's config.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Interpreter } from '../../src/lib/python/index.js';
import { createVenv } from '../../src/lib/venv/index.js';
import { supportedByVersion } from '../python/world.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';

export const pipEnv = isolatedPipEnv();

export interface StoreWorld {
  root: string;
  wheels: string;
  env: Record<string, string | undefined>;
  py: Interpreter;
  makeEnv(name: string): Promise<string>;
  pip(envDir: string, ...args: string[]): string;
  python(envDir: string, code: string): string;
  cleanup(): void;
}

export async function storeWorld(): Promise<StoreWorld | undefined> {
  const py = (await supportedByVersion()).at(-1);
  if (!py) return undefined;
  const root = mkdtempSync(join(tmpdir(), 'blast store '));
  const wheels = join(root, 'wheels');
  mkdirSync(wheels);
  buildWheel(py.executable, wheels, 'alpha', '1.0', { script: 'alpha' });
  buildWheel(py.executable, wheels, 'alpha', '2.0', {
    script: 'alpha',
    files: { 'alpha/sub/__init__.py': '', 'alpha/sub/deep/mod.py': 'X = 2\n' },
  });
  buildWheel(py.executable, wheels, 'beta', '1.0', { script: 'beta' });
  const env: Record<string, string | undefined> = { ...process.env, BLAST_HOME: join(root, 'blast home') };
  delete env.BLAST_TEST_CRASH_AT;
  const run = (file: string, args: string[]) =>
    execFileSync(file, args, { env: pipEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    root,
    wheels,
    env,
    py,
    async makeEnv(name) {
      const dir = join(root, 'envs', name);
      await createVenv(dir, py, { env });
      return dir;
    },
    pip: (dir, ...args) =>
      run(join(dir, 'bin', 'pip'), [
        ...args,
        ...(args[0] === 'install' ? ['--no-index', '--find-links', wheels] : []),
      ]),
    python: (dir, code) => run(join(dir, 'bin', 'python'), ['-c', code]),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Every entry under `dir`: `d`, `l -> target`, or `f <mode> <sha256>`, by relative path. */
export function tree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const rel = relative(dir, abs);
      if (skip(rel)) continue;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out[rel] = `l -> ${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[rel] = 'd';
        walk(abs);
      } else {
        const sha = createHash('sha256').update(readFileSync(abs)).digest('hex');
        out[rel] = `f ${(st.mode & 0o7777).toString(8)} ${sha}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** The entries where two trees differ, as `path: a | b`, for readable failures. */
export function treeDiff(actual: Record<string, string>, expected: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
    if (actual[k] !== expected[k]) out.push(`${k}: ${actual[k] ?? '(none)'} | ${expected[k] ?? '(none)'}`);
  }
  return out.sort();
}
