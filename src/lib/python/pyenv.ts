/**
 * pyenv shims are bash scripts whose answer depends on the environment and the current
 * directory, so facts are never cached under a shim's path: a shim is resolved here, cheaply
 * and the way `pyenv exec` does it, to the real executable it would run.
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Env } from '../paths.js';

export function pyenvRoot(env: Env): string {
  const root = env.PYENV_ROOT;
  if (root) return resolve(root);
  return join(env.HOME || homedir(), '.pyenv');
}

/** An executable regular file, or undefined. One stat. */
export function executableStat(path: string) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st || !st.isFile() || (st.mode & 0o111) === 0) return undefined;
  return st;
}

/**
 * The words of a pyenv version file: the first word of each line, skipping blank lines,
 * comments and values pyenv refuses (`..`, anything with a `/`).
 */
export function readVersionFile(file: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const names: string[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    const word = line.trim().split(/\s+/)[0];
    if (!word || word.startsWith('#') || word === '..' || word.includes('/')) continue;
    names.push(word);
  }
  return names;
}

export interface VersionSelection {
  names: string[];
  /** Where the selection came from: `PYENV_VERSION`, a `.python-version` path, `$PYENV_ROOT/version`, or `default`. */
  origin: string;
}

/** pyenv's `version-name` lookup: PYENV_VERSION, then `.python-version` upwards, then the global file. */
export function selectedVersions(env: Env, cwd: string, root: string): VersionSelection {
  const fromEnv = env.PYENV_VERSION;
  if (fromEnv) return { names: fromEnv.split(':').filter(Boolean), origin: 'PYENV_VERSION' };
  let dir = resolve(env.PYENV_DIR || cwd);
  for (;;) {
    const file = join(dir, '.python-version');
    const names = readVersionFile(file);
    if (names && names.length > 0) return { names, origin: file };
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const global = join(root, 'version');
  const names = readVersionFile(global);
  if (names && names.length > 0) return { names, origin: global };
  return { names: ['system'], origin: 'default' };
}

/** Release numbers of a version-like directory name, for ordering `pyenv latest` style. */
function releaseKey(name: string): number[] {
  return name.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export class Pyenv {
  readonly root: string;
  readonly shims: string;
  private installed: string[] | undefined;
  private selection: VersionSelection | undefined;

  constructor(
    private readonly env: Env,
    private readonly cwd: string,
  ) {
    this.root = pyenvRoot(env);
    this.shims = join(this.root, 'shims');
  }

  /** Names under `$PYENV_ROOT/versions`, read once. */
  versions(): string[] {
    if (!this.installed) {
      try {
        this.installed = readdirSync(join(this.root, 'versions')).filter((n) => !n.startsWith('.'));
      } catch {
        this.installed = [];
      }
    }
    return this.installed;
  }

  /** A selected version name to an installed directory name: exact, `python-` stripped, or the latest with that prefix. */
  resolveName(name: string): string | undefined {
    const installed = this.versions();
    if (installed.includes(name)) return name;
    const stripped = name.replace(/^python-/, '');
    if (installed.includes(stripped)) return stripped;
    // `pyenv latest`: the highest final release under that prefix.
    const matches = installed.filter(
      (n) =>
        (n.startsWith(`${stripped}.`) || n.startsWith(`${stripped}-`)) &&
        !/(dev|a\d|b\d|rc|src)/.test(n.slice(stripped.length)),
    );
    matches.sort((a, b) => compareKeys(releaseKey(a), releaseKey(b)));
    return matches.at(-1);
  }

  /** The selected version names, looked up once. */
  selected(): VersionSelection {
    this.selection ??= selectedVersions(this.env, this.cwd, this.root);
    return this.selection;
  }

  isShimDir(dir: string): boolean {
    return resolve(dir) === this.shims;
  }

  /**
   * What `pyenv exec <program>` would run: the first selected version that has `program`, or,
   * for `system`, the first match on PATH outside the shims. Undefined when pyenv would fail.
   */
  resolveShim(program: string, pathDirs: readonly string[]): { path: string; stat: Stats } | undefined {
    for (const name of this.selected().names) {
      if (name === 'system') {
        for (const dir of pathDirs) {
          if (this.isShimDir(dir) || basename(dir) === 'shims') continue;
          const path = join(dir, program);
          const stat = executableStat(path);
          if (stat) return { path, stat };
        }
        continue;
      }
      const version = this.resolveName(name);
      if (!version) continue;
      const path = join(this.root, 'versions', version, 'bin', program);
      const stat = executableStat(path);
      if (stat) return { path, stat };
    }
    return undefined;
  }
}
