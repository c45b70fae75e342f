/**
 * The pip seed, like virtualenv's app-data: a pip wheel extracted and byte-compiled once per
 * (wheel, interpreter bytecode flavour) under `cacheDir/seed/<wheel-stem>/<cache_tag>-<magic>/`,
 * then hard-linked into each new venv's site-packages.
 *
 *   tree/           the wheel's files (its RECORD left out: each venv gets its own) + __pycache__
 *   manifest.json   what is in tree/, so creation never walks it; written last
 *   spares/         ready-made site-packages trees (see takeSpare)
 *
 * A seed is built in a temporary sibling and renamed into place, so concurrent creators each
 * either see a complete seed or build their own and let the first rename win.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import { alive } from '../fs/alive.js';
import { cacheDir, type Env } from '../paths.js';
import { pythonEnv } from '../python/probe.js';
import { pythonProgram } from '../python/programs.js';
import type { Interpreter } from '../python/types.js';

export const SEED_FORMAT = 2;

export interface SeedManifest {
  format: number;
  /** The wheel's file name without `.whl`. */
  wheel: string;
  /** `pip-24.2.dist-info`. */
  distInfo: string;
  /** pip's version. */
  version: string;
  /** Directories under tree/, parents first (posix, relative). */
  dirs: string[];
  /** Files under tree/ (posix, relative); the dist-info's RECORD is not among them. */
  files: string[];
  /**
   * RECORD lines (CSV, no line ends) of the installed files, sorted as pip sorts them: the
   * wheel's rows and the .pyc files; RECORD itself and per-venv files excluded.
   */
  record: string[];
  /** The `pip` console script's target (`pip._internal.cli.main:main`). */
  entryPoint: { module: string; attr: string };
}

export interface Seed {
  /** The seed directory (tree/, manifest.json, spares/). */
  dir: string;
  tree: string;
  manifest: SeedManifest;
}

function seedsRoot(env: Env): string {
  return join(cacheDir(env), 'seed');
}

/**
 * Where the seed of `wheel` for `interp`'s bytecode lives. The flavour names the bytecode
 * (cache tag and magic number: .pyc files are only valid for those) and the wheel file (so a
 * wheel replaced under the same name, as distributions do with patched ones, gets a new seed).
 */
export function seedDir(env: Env, wheel: string, interp: Interpreter): string {
  const tag =
    interp.facts.cacheTag ?? `${interp.implementation}-${interp.versionInfo[0]}${interp.versionInfo[1]}`;
  const st = statSync(wheel);
  const file = createHash('sha256').update(`${wheel}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 10);
  return join(
    seedsRoot(env),
    basename(wheel).replace(/\.whl$/, ''),
    `${tag}-${interp.facts.magic ?? 'nomagic'}-${file}`,
  );
}

function readManifest(dir: string): SeedManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SeedManifest;
    if (m.format !== SEED_FORMAT || !Array.isArray(m.files) || !Array.isArray(m.record) || !m.entryPoint)
      return undefined;
    return m;
  } catch {
    return undefined;
  }
}

function unique(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Move a broken seed out of the way (rename is atomic; removal can then take its time). */
export function discardSeed(dir: string): void {
  const trash = join(dirname(dir), `.trash-${unique()}-${basename(dir)}`);
  try {
    renameSync(dir, trash);
  } catch {
    return;
  }
  rmSync(trash, { recursive: true, force: true });
}

async function run(python: string, args: string[], env: Env): Promise<void> {
  // Loaded only when a seed is built: most runs never need it.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(
      python,
      args,
      { env: pythonEnv(env), cwd: '/', maxBuffer: 16 << 20, encoding: 'utf8' },
      (error, _stdout, stderr) => {
        if (error) reject(new Error(stderr.trim().split('\n').slice(-3).join('\n') || error.message));
        else resolve();
      },
    );
  });
}

/** The seed for `wheel` and `interp`, built now if it is not there yet. */
export async function ensureSeed(wheel: string, interp: Interpreter, env: Env): Promise<Seed> {
  if (!statSync(wheel, { throwIfNoEntry: false })) {
    throw new BlastError(
      `The pip wheel ${wheel} is gone.`,
      ExitCode.failure,
      'Reinstall that Python, or pick another with --python.',
    );
  }
  const dir = seedDir(env, wheel, interp);
  const tree = join(dir, 'tree');
  const existing = readManifest(dir);
  if (existing) return { dir, tree, manifest: existing };
  if (statSync(dir, { throwIfNoEntry: false })) discardSeed(dir);
  const parent = join(dir, '..');
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.tmp-${unique()}-${basename(dir)}`);
  try {
    mkdirSync(tmp);
    await run(
      interp.realpath,
      ['-E', '-s', '-c', pythonProgram('seed_build'), wheel, tmp, String(SEED_FORMAT)],
      env,
    );
    const manifest = readManifest(tmp);
    if (!manifest) throw new Error('the seed build wrote no manifest');
    try {
      renameSync(tmp, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Someone else finished first: use theirs.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      const theirs = readManifest(dir);
      if (!theirs) throw error;
      return { dir, tree, manifest: theirs };
    }
    return { dir, tree, manifest };
  } catch (error) {
    throw new BlastError(
      `Could not prepare pip from ${wheel} for Python ${interp.version}: ${(error as Error).message}`,
      ExitCode.failure,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Seeds on disk (for `blast clean`): directories under cacheDir/seed/<wheel>/. */
export function listSeeds(env: Env): string[] {
  const root = seedsRoot(env);
  const out: string[] = [];
  for (const wheel of safeReaddir(root)) {
    for (const flavour of safeReaddir(join(root, wheel))) {
      if (!flavour.startsWith('.')) out.push(join(root, wheel, flavour));
    }
  }
  return out;
}

function deadOwner(name: string, prefix: string): boolean {
  return !alive(Number(name.slice(prefix.length).split('-')[0]));
}

/**
 * Leftovers of seed builds and spare refills whose process died (for `blast clean`):
 * `.tmp-<pid>-*` and `.trash-<pid>-*` next to seeds, `spares/.building-<pid>-*`, and a
 * `spares/.lock` older than five minutes.
 */
export function staleSeedTemps(env: Env): string[] {
  const root = seedsRoot(env);
  const out: string[] = [];
  for (const wheel of safeReaddir(root)) {
    for (const name of safeReaddir(join(root, wheel))) {
      const path = join(root, wheel, name);
      if (
        (name.startsWith('.tmp-') && deadOwner(name, '.tmp-')) ||
        (name.startsWith('.trash-') && deadOwner(name, '.trash-'))
      ) {
        out.push(path);
        continue;
      }
      if (name.startsWith('.')) continue;
      const spares = join(path, 'spares');
      for (const spare of safeReaddir(spares)) {
        if (spare.startsWith('.building-') && deadOwner(spare, '.building-')) out.push(join(spares, spare));
        if (spare === '.lock') {
          const st = statSync(join(spares, spare), { throwIfNoEntry: false });
          if (st && Date.now() - st.mtimeMs > 300_000) out.push(join(spares, spare));
        }
      }
    }
  }
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Spares: complete site-packages trees (directories plus hard links into tree/) made ahead of
 * time, so a new venv gets pip with one rename instead of ~100 mkdirs and ~1000 links, whose
 * cost varies a lot with the file system's state (tens of ms on a busy ext4). A spare is built
 * under a dot name and renamed when complete; taking one is a rename, so two creators never get
 * the same one. The pool is refilled by a detached Python process after a creation, so no CLI
 * waits for it. BLAST_SEED_SPARES sets the pool size (0 turns spares off).
 */
export function sparesWanted(env: Env): number {
  const raw = env.BLAST_SEED_SPARES;
  if (raw === undefined || raw === '') return 2;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 8) : 2;
}

export type SpareResult =
  /** `dest` now holds a complete site-packages tree; `left` ready spares remain. */
  | { taken: true; left: number }
  /** No spare was ready. */
  | { taken: false; left: 0; usable: true }
  /** Spares cannot be used for `dest` (another file system): do not refill for it. */
  | { taken: false; left: number; usable: false };

/** Move a ready spare to `dest` (which must not exist). */
export function takeSpare(seed: Seed, dest: string): SpareResult {
  const dir = join(seed.dir, 'spares');
  const names = safeReaddir(dir).filter((n) => !n.startsWith('.'));
  for (let i = 0; i < names.length; i++) {
    try {
      renameSync(join(dir, names[i] as string), dest);
      return { taken: true, left: names.length - i - 1 };
    } catch (error) {
      // Someone else took it: try the next one.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return { taken: false, left: names.length - i, usable: false };
    }
  }
  return { taken: false, left: 0, usable: true };
}

/** Refill the spares pool in a detached process (never waited for; failures only cost speed). */
export async function replenishSpares(seed: Seed, python: string, env: Env): Promise<void> {
  const want = sparesWanted(env);
  if (want === 0) return;
  try {
    const { spawn } = await import('node:child_process');
    const child = spawn(python, ['-E', '-s', '-c', pythonProgram('seed_spares'), seed.dir, String(want)], {
      cwd: '/',
      env: pythonEnv(env),
      detached: true,
      stdio: 'ignore',
    });
    child.on('error', () => {});
    child.unref();
  } catch {
    // Spares are an optimisation.
  }
}
