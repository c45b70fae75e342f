/**
 * PEP 405 venv creation without `python -m venv`: the same files venv writes (pyvenv.cfg, the
 * python symlinks, lib/pythonX.Y/site-packages, lib64, activation scripts), and pip hard-linked
 * from a per-interpreter seed (see seed.ts) instead of ensurepip's 2-3 s install.
 *
 * The venv is built in a temporary sibling directory and renamed into place: on failure nothing
 * is left, and an existing directory is never touched.
 */
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { BlastError, diskFullError, ExitCode } from '../cli/errors.js';
import { PRIVATE_FILE_MODE } from '../fs/file-modes.js';
import type { Env } from '../paths.js';
import { listInterpreters } from '../python/discovery.js';
import type { Interpreter } from '../python/types.js';
import { dialectOf, renderTemplate, type Placeholder } from './activate.js';
import { parseCfg, renderCfg, type VenvInfo } from './cfg.js';
import { consoleScript, csvRow, recordHash } from './scripts.js';
import {
  discardSeed,
  ensureSeed,
  replenishSpares,
  sparesWanted,
  takeSpare,
  type Seed,
  type SpareResult,
} from './seed.js';
import { alive } from '../fs/alive.js';
import { LinkOrCopy } from '../fs/link.js';

export interface CreateOptions {
  /** The prompt (written to pyvenv.cfg and the activation scripts); default: the directory's name. */
  prompt?: string;
  env: Env;
  /** Where discovery runs if another interpreter's pip wheel is needed (pyenv shims depend on it). */
  cwd?: string;
  /** Extra files (path relative to the venv → content), written before the venv appears. */
  extraFiles?: Readonly<Record<string, string>>;
}

/** Temporary build directories are siblings named like this (for `blast clean`). */
export const TEMP_PREFIX = '.blast-tmp-';

function unique(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** The venv layout for an interpreter, relative to the venv root, as its own venv module lays it out. */
export function layoutOf(interp: Interpreter) {
  const f = interp.facts;
  const [major, minor] = interp.versionInfo;
  return {
    bin: f.venvScheme && f.scripts ? f.scripts : 'bin',
    include: f.venvScheme && f.include ? f.include : 'include',
    sitePackages: f.purelib ?? `lib/python${major}.${minor}/site-packages`,
    lib64: f.is64bit && f.osName === 'posix' && f.platform !== 'darwin',
    // venv added python3.X in 3.9, the .gitignore in 3.13, 𝜋thon in 3.14.
    pythonNames: [
      'python',
      'python3',
      ...(minor >= 9 || major > 3 ? [`python${major}.${minor}`] : []),
      ...(minor >= 14 || major > 3 ? ['𝜋thon'] : []),
    ],
    gitignore: minor >= 13 || major > 3,
    /** Before 3.13 the templates expect `(name) ` with parentheses and a space; since, the bare name. */
    barePrompt: minor >= 13 || major > 3,
  };
}

function checkTarget(target: string): void {
  if (target.includes(':')) {
    throw new BlastError(
      `Cannot create a venv in ${target}: the path contains ":", the PATH separator.`,
      ExitCode.usage,
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(target)) {
    throw new BlastError(
      `Cannot create a venv in ${JSON.stringify(target)}: the path contains control characters.`,
      ExitCode.usage,
    );
  }
}

/** The pip wheel to seed from: the interpreter's own, else the newest compatible one another Python ships. */
async function pickWheel(interp: Interpreter, opts: CreateOptions): Promise<string> {
  const own = interp.facts.pipWheel;
  if (own && statSync(own, { throwIfNoEntry: false })) return own;
  const pep440 = await import('@renovatebot/pep440');
  const others = await listInterpreters({ env: opts.env, cwd: opts.cwd ?? '/' });
  let best: { wheel: string; version: string } | undefined;
  const seen = new Set<string>();
  for (const other of others) {
    const wheel = other.facts.pipWheel;
    if (!wheel || seen.has(wheel)) continue;
    seen.add(wheel);
    const m = /^pip-([^-]+)-([^-]+)-none-any\.whl$/.exec(basename(wheel));
    if (!m || !(m[2] as string).split('.').some((t) => t === 'py3' || t === `py${interp.versionInfo[0]}`))
      continue;
    const version = m[1] as string;
    const requires = other.facts.pipWheelRequiresPython;
    if (
      requires &&
      pep440.validRange(requires) &&
      !pep440.satisfies(interp.version, requires, { prereleases: true })
    )
      continue;
    if (!statSync(wheel, { throwIfNoEntry: false })) continue;
    if (!best || pep440.gt(version, best.version)) best = { wheel, version };
  }
  if (best) return best.wheel;
  throw new BlastError(
    `Python ${interp.version} (${interp.executable}) has no pip wheel to install pip from: ` +
      `its ensurepip has no bundled wheel (and no WHEEL_PKG_DIR), and no other Python found has one it can use.`,
    ExitCode.failure,
    "Install your distribution's pip wheel package (Debian/Ubuntu: python3-pip-whl, python3-venv), or pick another --python.",
  );
}

interface Build {
  tmp: string;
  target: string;
  interp: Interpreter;
  seed: Seed;
  prompt: string | undefined;
  extraFiles: Readonly<Record<string, string>>;
  env: Env;
  /** The pyvenv.cfg text written (set by build). */
  cfg?: string;
  /** What taking a ready-made site-packages gave (set by writePip). */
  spare?: SpareResult;
}

function writeActivation(b: Build, layout: ReturnType<typeof layoutOf>, binDir: string): void {
  const f = b.interp.facts;
  if (!f.venvScripts) return;
  const name = basename(b.target);
  const prompt = b.prompt ?? name;
  const values: Record<Placeholder, string> = {
    __VENV_DIR__: b.target,
    __VENV_NAME__: name,
    __VENV_PROMPT__: layout.barePrompt ? prompt : `(${prompt}) `,
    __VENV_BIN_NAME__: layout.bin,
    __VENV_PYTHON__: join(b.target, layout.bin, basename(b.interp.executable)),
  };
  for (const rel of f.venvTemplates) {
    const parts = rel.split('/');
    const dialect = dialectOf(parts.at(-1) as string);
    if (!dialect) continue;
    const src = join(f.venvScripts, rel);
    let data: Buffer;
    let mode: number;
    try {
      data = readFileSync(src);
      mode = statSync(src).mode & 0o777;
    } catch {
      continue; // A template that vanished since the probe: activation scripts are a convenience.
    }
    const text = data.toString('utf8');
    const out = text.includes('\uFFFD') ? data : renderTemplate(text, dialect, values);
    const dst = join(binDir, ...parts.slice(1));
    if (parts.length > 2) mkdirSync(dirname(dst), { recursive: true });
    writeFileSync(dst, out, { mode });
  }
}

/** The path a RECORD line is about (its first CSV field). */
export function recordPath(line: string): string {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma < 0 ? line : line.slice(0, comma);
  }
  let out = '';
  for (let i = 1; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '"') {
      if (line[i + 1] !== '"') break;
      i++;
    }
    out += ch;
  }
  return out;
}

/** Insert `row` into RECORD lines sorted by path, keeping them sorted. */
function insertSorted(lines: string[], row: readonly [string, string, string]): void {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (recordPath(lines[mid] as string) < row[0]) lo = mid + 1;
    else hi = mid;
  }
  lines.splice(lo, 0, csvRow(row));
}

function writePip(b: Build, layout: ReturnType<typeof layoutOf>, binDir: string): void {
  const { manifest, tree } = b.seed;
  const spDir = join(b.tmp, layout.sitePackages);
  // Paths from the manifest are already normal: plain concatenation, no path.join per file.
  const sp = `${spDir}/`;
  b.spare = sparesWanted(b.env) > 0 ? takeSpare(b.seed, spDir) : { taken: false, left: 0, usable: false };
  if (!b.spare.taken) {
    mkdirSync(spDir);
    const src = `${tree}/`;
    for (const d of manifest.dirs) mkdirSync(sp + d);
    const placer = new LinkOrCopy();
    for (const file of manifest.files) placer.place(src + file, sp + file);
  }

  const dist = manifest.distInfo;
  const lines = manifest.record.slice();
  const add = (rel: string, content: string, mode?: number) => {
    writeFileSync(sp + rel, content, mode === undefined ? {} : { mode });
    insertSorted(lines, [rel, recordHash(content), String(Buffer.byteLength(content))]);
  };
  add(`${dist}/INSTALLER`, 'pip\n');
  add(`${dist}/REQUESTED`, '');
  const [major, minor] = b.interp.versionInfo;
  const python = join(b.target, layout.bin, basename(b.interp.executable));
  const script = consoleScript(python, manifest.entryPoint.module, manifest.entryPoint.attr);
  const toBin = posix.relative(posix.join('/', layout.sitePackages), posix.join('/', layout.bin));
  const scriptRow = [recordHash(script), String(Buffer.byteLength(script))] as const;
  for (const name of ['pip', `pip${major}`, `pip${major}.${minor}`]) {
    writeFileSync(join(binDir, name), script, { mode: 0o755 });
    insertSorted(lines, [`${toBin}/${name}`, ...scriptRow]);
  }
  insertSorted(lines, [`${dist}/RECORD`, '', '']);
  writeFileSync(`${sp}${dist}/RECORD`, lines.join('\r\n') + '\r\n');
}

/** Everything, in the temporary directory, with the final paths written into the files. */
function build(b: Build): void {
  const { tmp, target, interp } = b;
  const layout = layoutOf(interp);
  const binDir = join(tmp, layout.bin);
  mkdirSync(join(tmp, layout.include), { recursive: true });
  mkdirSync(dirname(join(tmp, layout.sitePackages)), { recursive: true });
  if (layout.lib64) symlinkSync('lib', join(tmp, 'lib64'));
  mkdirSync(binDir, { recursive: true });

  // Like venv: bin/<name it was invoked as> -> the interpreter, the other names -> that one.
  const exe = interp.executable;
  const exeName = basename(exe);
  symlinkSync(exe, join(binDir, exeName));
  for (const name of layout.pythonNames) if (name !== exeName) symlinkSync(exeName, join(binDir, name));

  const [major, minor, micro] = interp.versionInfo;
  b.cfg = renderCfg({
    home: dirname(exe),
    version: `${major}.${minor}.${micro}`,
    executable: interp.realpath,
    invokedAs: exe,
    dir: target,
    ...(b.prompt === undefined ? {} : { prompt: b.prompt }),
  });
  writeFileSync(join(tmp, 'pyvenv.cfg'), b.cfg);
  if (layout.gitignore)
    writeFileSync(
      join(tmp, '.gitignore'),
      '# Created by venv; see https://docs.python.org/3/library/venv.html\n*\n',
    );
  writeActivation(b, layout, binDir);
  writePip(b, layout, binDir);

  for (const [rel, content] of Object.entries(b.extraFiles)) {
    const abs = resolve(tmp, rel);
    if (isAbsolute(rel) || relative(tmp, abs).startsWith('..'))
      throw new Error(`extra file outside the venv: ${rel}`);
    mkdirSync(dirname(abs), { recursive: true });
    // Blast's own files in the venv (blast.json: variables that may be secrets) are private.
    writeFileSync(abs, content, { mode: PRIVATE_FILE_MODE });
  }
}

/** Remove the directories mkdir -p made, deepest first, as long as they are empty. */
function removeCreatedParents(parent: string, firstCreated: string | undefined): void {
  if (!firstCreated) return;
  for (let dir = parent; dir.length >= firstCreated.length; dir = dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
    if (dir === firstCreated) return;
  }
}

/**
 * Create a PEP 405 venv at `dir` for `interpreter`, with pip usable. `dir` must not exist.
 * Returns what pyvenv.cfg now says (as readVenv would).
 */
export async function createVenv(
  dir: string,
  interpreter: Interpreter,
  opts: CreateOptions,
): Promise<VenvInfo> {
  const target = resolve(dir);
  checkTarget(target);
  if (!interpreter.supported) {
    throw new BlastError(
      `${interpreter.executable} cannot be used: ${interpreter.reason ?? 'unsupported'}.`,
      ExitCode.usage,
    );
  }
  if (!statSync(interpreter.realpath, { throwIfNoEntry: false })) {
    throw new BlastError(
      `Python ${interpreter.version} is gone: ${interpreter.realpath} does not exist.`,
      ExitCode.notFound,
    );
  }
  const exists = () => lstatSync(target, { throwIfNoEntry: false }) !== undefined;
  const alreadyThere = () => new BlastError(`${target} already exists; nothing was changed.`, ExitCode.usage);
  if (exists()) throw alreadyThere();

  const wheel = await pickWheel(interpreter, opts);
  let seed = await ensureSeed(wheel, interpreter, opts.env);

  const parent = dirname(target);
  const firstCreated = mkdirSync(parent, { recursive: true });
  let tmp: string | undefined;
  let b: Build | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      tmp = join(parent, `${TEMP_PREFIX}${unique()}`);
      mkdirSync(tmp);
      b = {
        tmp,
        target,
        interp: interpreter,
        seed,
        prompt: opts.prompt,
        extraFiles: opts.extraFiles ?? {},
        env: opts.env,
      };
      try {
        build(b);
        break;
      } catch (error) {
        // A seed file went missing (someone cleaned the cache): rebuild the seed once.
        if (errnoOf(error) !== 'ENOENT' || attempt > 0) throw error;
        rmSync(tmp, { recursive: true, force: true });
        discardSeed(seed.dir);
        seed = await ensureSeed(wheel, interpreter, opts.env);
      }
    }
    if (exists()) throw alreadyThere();
    try {
      renameSync(tmp, target);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR')
        throw alreadyThere();
      throw error;
    }
    tmp = undefined;
  } catch (error) {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    removeCreatedParents(parent, firstCreated);
    if (error instanceof BlastError) throw error;
    throw (
      diskFullError(error, { what: 'the new environment', path: target }) ??
      new BlastError(`Could not create the venv ${target}: ${(error as Error).message}`, ExitCode.failure)
    );
  }

  // Refill the spares for the next venv; a spare that could not be used here says nothing about others.
  const spare = b?.spare;
  if (spare && (spare.taken || spare.usable) && spare.left < sparesWanted(opts.env)) {
    await replenishSpares(seed, interpreter.realpath, opts.env);
  }
  return parseCfg(b?.cfg ?? '', target);
}

/**
 * Temporary build directories in `parent` (e.g. BLAST_HOME/envs) left by a creation that was
 * killed: `.blast-tmp-<pid>-...` whose process is gone. For `blast clean`.
 */
export function staleTemps(parent: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(TEMP_PREFIX) && !alive(Number(n.slice(TEMP_PREFIX.length).split('-')[0])))
    .map((n) => join(parent, n));
}
