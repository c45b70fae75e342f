/**
 * Python discovery: candidates from PATH (pyenv shims resolved), pyenv's versions folder and
 * uv's managed Pythons; facts from one probe per interpreter, cached by realpath + mtime + size.
 *
 * The common case (no --python, or a spec the default interpreter satisfies) touches only the
 * default interpreter: a handful of stats and no Python process once its facts are cached.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { Env } from '../paths.js';
import { FactsCache, cacheFile } from './cache.js';
import { probe, ProbeError } from './probe.js';
import { Pyenv, executableStat } from './pyenv.js';
import { type PythonSpec, describeSpec, invalidSpec, parseSpec } from './spec.js';
import type { DiscoveryOptions, Interpreter, ProbeFacts } from './types.js';
import { compareVersionInfo, unsupportedReason, versionString } from './version.js';
import { byText } from '../text-order.js';

/** python, python3, python3.12, python2.7 — not python3-config, python3.12m-config... */
const PYTHON_NAME = /^python(\d+(\.\d+)?)?$/;

type Source = Interpreter['source'];

interface Found {
  path: string;
  source: Source;
}

interface Identity {
  realpath: string;
  stat: Stats;
}

/** A candidate that turned out not to be a usable Python. */
export interface Broken {
  path: string;
  reason: string;
}

export interface Discovered {
  /** Every interpreter found, supported or not, highest version first. */
  interpreters: Interpreter[];
  /** What the default (`python3` on PATH) resolves to, if anything. */
  defaultInterpreter?: Interpreter;
  broken: Broken[];
}

type FactsResult = { facts: ProbeFacts } | { error: string };

function uvPythonDir(env: Env): string {
  if (env.UV_PYTHON_INSTALL_DIR) return resolve(env.UV_PYTHON_INSTALL_DIR);
  const data = env.XDG_DATA_HOME?.startsWith('/')
    ? env.XDG_DATA_HOME
    : join(env.HOME || homedir(), '.local', 'share');
  return join(data, 'uv', 'python');
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** `python3` before `python3.12` before `python`: the names a user most likely means come first. */
function nameOrder(a: string, b: string): number {
  const rank = (n: string) => (n === 'python3' ? 0 : n.startsWith('python3') ? 1 : n === 'python' ? 2 : 3);
  return rank(a) - rank(b) || byText(a, b);
}

export class Discovery {
  readonly env: Env;
  readonly cwd: string;
  readonly pathDirs: string[];
  readonly pyenv: Pyenv;
  readonly cache: FactsCache;
  private readonly inFlight = new Map<string, Promise<FactsResult>>();
  private readonly venvDirs = new Map<string, boolean>();
  private readonly otherPyenvs = new Map<string, Pyenv | null>();
  private defaultMemo: Promise<Interpreter | undefined> | undefined;
  private discovered: Promise<Discovered> | undefined;

  constructor(opts: DiscoveryOptions) {
    this.env = opts.env;
    this.cwd = resolve(opts.cwd);
    const seen = new Set<string>();
    this.pathDirs = [];
    const path = opts.env.PATH ?? '';
    for (const entry of path === '' ? [] : path.split(delimiter)) {
      // An empty PATH entry means the current directory, as for the shell.
      const dir = resolve(this.cwd, entry || '.');
      if (!seen.has(dir)) {
        seen.add(dir);
        this.pathDirs.push(dir);
      }
    }
    this.pyenv = new Pyenv(opts.env, this.cwd);
    this.cache = new FactsCache(cacheFile(opts.env));
  }

  /**
   * The pyenv whose shims live in `dir`, if they do: PYENV_ROOT's, or another root's shims dir
   * on PATH (recognised by its shims, which name their root).
   */
  private shimsOf(dir: string, name: string): Pyenv | undefined {
    if (this.pyenv.isShimDir(dir)) return this.pyenv;
    if (basename(dir) !== 'shims') return undefined;
    let other = this.otherPyenvs.get(dir);
    if (other === undefined) {
      other = null;
      try {
        const text = readFileSync(join(dir, name), 'utf8').slice(0, 4096);
        const root = /^export PYENV_ROOT="([^"]+)"$/m.exec(text)?.[1];
        if (root && text.includes('pyenv') && resolve(root, 'shims') === dir) {
          other = new Pyenv({ ...this.env, PYENV_ROOT: root }, this.cwd);
        }
      } catch {
        // Not readable: not a shim we can resolve.
      }
      this.otherPyenvs.set(dir, other);
    }
    return other ?? undefined;
  }

  /** The first `name` on PATH, pyenv shims resolved; undefined if none. */
  findOnPath(name: string): { path: string; stat: Stats } | undefined {
    for (const dir of this.pathDirs) {
      const shims = this.shimsOf(dir, name);
      if (shims) {
        const resolved = shims.resolveShim(name, this.pathDirs);
        if (resolved) return resolved;
        continue;
      }
      const path = join(dir, name);
      const stat = executableStat(path);
      if (stat) return { path, stat };
    }
    return undefined;
  }

  private identify(path: string, stat?: Stats): Identity | undefined {
    try {
      const st = stat ?? statSync(path);
      return { realpath: realpathSync.native(path), stat: st };
    } catch {
      return undefined;
    }
  }

  /** Facts about the file at `realpath`: from the cache, else from one probe (shared by concurrent askers). */
  private facts(id: Identity): Promise<FactsResult> {
    const cached = this.cache.get(id.realpath, id.stat);
    if (cached)
      return Promise.resolve(cached.facts ? { facts: cached.facts } : { error: cached.error as string });
    let pending = this.inFlight.get(id.realpath);
    if (!pending) {
      pending = probe(id.realpath, this.env).then(
        (facts): FactsResult => {
          // A wrapper script (not a shim we know) may answer differently per directory: never cache it.
          const wrapper = facts.executable !== null && facts.executable !== id.realpath && !facts.isVenv;
          if (!wrapper) this.cache.set(id.realpath, id.stat, { facts });
          return { facts };
        },
        (error: unknown): FactsResult => {
          const reason = error instanceof ProbeError ? error.message : String(error);
          this.cache.set(id.realpath, id.stat, { error: reason });
          return { error: reason };
        },
      );
      this.inFlight.set(id.realpath, pending);
    }
    return pending;
  }

  /** Whether `path` is the python of a venv (`<venv>/bin/python`): then venvs must not link to it. */
  private inVenv(path: string): boolean {
    const root = dirname(dirname(path));
    let known = this.venvDirs.get(root);
    if (known === undefined) {
      known = statSync(join(root, 'pyvenv.cfg'), { throwIfNoEntry: false }) !== undefined;
      this.venvDirs.set(root, known);
    }
    return known;
  }

  /**
   * Interpreters for the found paths, grouped by realpath in discovery order. A venv's python
   * stands for its base interpreter.
   */
  private async interpret(
    found: Array<Found & { stat?: Stats }>,
  ): Promise<{ interpreters: Interpreter[]; broken: Broken[] }> {
    const groups = new Map<string, { id: Identity; found: Found[] }>();
    const broken: Broken[] = [];
    const add = (f: Found, id: Identity) => {
      const group = groups.get(id.realpath);
      if (group) group.found.push(f);
      else groups.set(id.realpath, { id, found: [f] });
    };
    for (const f of found) {
      const id = this.identify(f.path, f.stat);
      if (id) add(f, id);
      else broken.push({ path: f.path, reason: 'cannot be read' });
    }
    const results = new Map<string, FactsResult>();
    await Promise.all(
      [...groups.values()].map(async (g) => results.set(g.id.realpath, await this.facts(g.id))),
    );

    // A `--copies` venv (or a wrapper into one) reports its base interpreter: use that instead.
    for (const [realpath, group] of [...groups]) {
      const result = results.get(realpath);
      if (!result || !('facts' in result) || !result.facts.isVenv) continue;
      groups.delete(realpath);
      const base = result.facts.baseExecutable;
      const id = base ? this.identify(base) : undefined;
      if (!base || !id) {
        for (const f of group.found)
          broken.push({ path: f.path, reason: 'a virtual environment whose base Python cannot be found' });
        continue;
      }
      if (!results.has(id.realpath)) results.set(id.realpath, await this.facts(id));
      const baseResult = results.get(id.realpath);
      if (baseResult && 'facts' in baseResult && baseResult.facts.isVenv) {
        for (const f of group.found)
          broken.push({ path: f.path, reason: 'a virtual environment made from another one' });
        continue;
      }
      for (const f of group.found) add({ path: base, source: f.source }, id);
    }

    const interpreters: Interpreter[] = [];
    for (const [realpath, group] of groups) {
      const result = results.get(realpath) as FactsResult;
      if ('error' in result) {
        for (const f of group.found) broken.push({ path: f.path, reason: result.error });
        continue;
      }
      const facts = result.facts;
      const paths = [...new Set(group.found.map((f) => f.path))];
      const executable = paths.find((p) => !this.inVenv(p)) ?? realpath;
      const reason = unsupportedReason(facts);
      interpreters.push({
        executable,
        realpath,
        paths,
        version: versionString(facts.versionInfo),
        versionInfo: [facts.versionInfo[0], facts.versionInfo[1], facts.versionInfo[2]],
        implementation: facts.implementation,
        source: (group.found.find((f) => f.path === executable) ?? group.found[0])?.source ?? 'path',
        isDefault: false,
        supported: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
        facts,
      });
    }
    return { interpreters, broken };
  }

  /** What `python3` (else `python`) on PATH resolves to. */
  defaultInterpreter(): Promise<Interpreter | undefined> {
    this.defaultMemo ??= (async () => {
      for (const name of ['python3', 'python']) {
        const hit = this.findOnPath(name);
        if (!hit) continue;
        const { interpreters } = await this.interpret([{ path: hit.path, source: 'path', stat: hit.stat }]);
        const interp = interpreters[0];
        if (interp?.supported) return { ...interp, isDefault: true };
      }
      return undefined;
    })();
    return this.defaultMemo;
  }

  /** Every candidate: PATH, pyenv versions, uv's Pythons. */
  private candidates(): Array<Found & { stat: Stats }> {
    const out: Array<Found & { stat: Stats }> = [];
    const push = (path: string, source: Source, stat: Stats | undefined) => {
      if (stat) out.push({ path, source, stat });
    };
    for (const dir of this.pathDirs) {
      const names = readdirOrEmpty(dir).filter((n) => PYTHON_NAME.test(n));
      names.sort(nameOrder);
      for (const name of names) {
        const shims = this.shimsOf(dir, name);
        if (shims) {
          const resolved = shims.resolveShim(name, this.pathDirs);
          if (resolved) push(resolved.path, 'path', resolved.stat);
        } else {
          const path = join(dir, name);
          push(path, 'path', executableStat(path));
        }
      }
    }
    const versions = join(this.pyenv.root, 'versions');
    for (const v of this.pyenv.versions()) {
      for (const name of ['python3', 'python']) {
        const path = join(versions, v, 'bin', name);
        const stat = executableStat(path);
        if (stat) {
          push(path, 'pyenv', stat);
          break;
        }
      }
    }
    const uv = uvPythonDir(this.env);
    for (const d of readdirOrEmpty(uv)) {
      if (d.startsWith('.')) continue;
      const path = join(uv, d, 'bin', 'python3');
      push(path, 'uv', executableStat(path));
    }
    return out;
  }

  /** Everything, probed (in parallel) where the cache does not know it yet. */
  discover(): Promise<Discovered> {
    this.discovered ??= (async () => {
      const [def, all] = await Promise.all([this.defaultInterpreter(), this.interpret(this.candidates())]);
      const interpreters = all.interpreters.map((i) =>
        def && i.realpath === def.realpath ? { ...i, isDefault: true } : i,
      );
      if (def && !interpreters.some((i) => i.isDefault)) interpreters.unshift(def);
      // Highest first; equal versions keep discovery order (sort is stable).
      interpreters.sort((a, b) => compareVersionInfo(b.facts.versionInfo, a.facts.versionInfo));
      const defaultInterpreter = interpreters.find((i) => i.isDefault);
      return { interpreters, broken: all.broken, ...(defaultInterpreter ? { defaultInterpreter } : {}) };
    })();
    return this.discovered;
  }

  /** The interpreter at a user-given path (a file, or a directory holding bin/python3). */
  async atPath(text: string): Promise<Interpreter> {
    let path = text;
    if (path === '~' || path.startsWith('~/')) path = join(this.env.HOME || homedir(), path.slice(1));
    else if (path.startsWith('~')) throw invalidSpec(text, '~user paths are not supported');
    path = resolve(this.cwd, path);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) throw await this.notFound(`${path} does not exist.`);
    let file = path;
    if (st.isDirectory()) {
      const inside = ['bin/python3', 'bin/python', 'python3', 'python']
        .map((n) => join(path, n))
        .find((p) => executableStat(p));
      if (!inside) throw await this.notFound(`${path} is a directory without bin/python3 in it.`);
      file = inside;
    } else if (!executableStat(path)) {
      throw await this.notFound(`${path} is not an executable file.`);
    }
    const { interpreters, broken } = await this.interpret([{ path: file, source: 'explicit' }]);
    const interp = interpreters[0];
    if (!interp)
      throw await this.notFound(`${file} is not a Python interpreter (${broken[0]?.reason ?? 'no answer'}).`);
    const def = await this.defaultInterpreter();
    return def && def.realpath === interp.realpath ? { ...interp, isDefault: true } : interp;
  }

  /** A not-found error whose message lists what was found. */
  async notFound(message: string): Promise<BlastError> {
    const { interpreters } = await this.discover();
    return new BlastError(
      `${message}\n${foundList(interpreters, this.env)}`,
      ExitCode.notFound,
      interpreters.some((i) => i.supported)
        ? 'Pass --python with one of the versions or paths above.'
        : installHint,
    );
  }
}

const installHint =
  'Install Python 3 (for example with pyenv or your package manager), or pass --python PATH.';

export function foundList(interpreters: readonly Interpreter[], env: Env): string {
  if (interpreters.length === 0) {
    const root = new Pyenv(env, '/').root;
    return `No Python interpreter was found on PATH, in ${join(root, 'versions')} or in ${uvPythonDir(env)}.`;
  }
  const width = Math.max(...interpreters.map((i) => i.version.length));
  const lines = interpreters.map((i) => {
    const notes = [
      i.isDefault ? 'default' : '',
      i.implementation !== 'cpython' ? i.implementation : '',
      i.supported ? '' : 'unusable: ' + i.reason,
    ]
      .filter(Boolean)
      .join('; ');
    return `  ${i.version.padEnd(width)}  ${i.executable}${notes ? `  (${notes})` : ''}`;
  });
  return `Found:\n${lines.join('\n')}`;
}

async function specMatcher(spec: PythonSpec): Promise<(i: Interpreter) => boolean> {
  switch (spec.kind) {
    case 'version':
      return (i) => spec.release.every((n, k) => i.versionInfo[k] === n);
    case 'exact':
      return (i) => i.version === spec.version;
    case 'name':
      return (i) => (spec.orVersion ?? [-1]).every((n, k) => i.versionInfo[k] === n);
    case 'specifier': {
      const pep440 = await import('@renovatebot/pep440');
      const text = spec.specifier;
      return (i) =>
        pep440.satisfies(i.version, text) ||
        (i.facts.versionInfo[3] !== 'final' && pep440.satisfies(i.version, text, { prereleases: true }));
    }
    default:
      return () => true;
  }
}

function rejectUnsupported(interp: Interpreter): Interpreter {
  if (interp.supported) return interp;
  throw new BlastError(
    `${interp.executable} cannot be used: ${interp.reason}.`,
    ExitCode.usage,
    'Pick a Python 3 interpreter.',
  );
}

/**
 * The interpreter `spec` (a --python value) means. Among several matches: the default one if it
 * matches, else the highest version. Errors (BlastError) list what was found.
 */
export async function findPython(spec: string | undefined, opts: DiscoveryOptions): Promise<Interpreter> {
  const d = new Discovery(opts);
  try {
    let parsed: PythonSpec;
    try {
      parsed = parseSpec(spec);
      if (parsed.kind === 'specifier') {
        const pep440 = await import('@renovatebot/pep440');
        if (!pep440.validRange(parsed.specifier)) {
          throw invalidSpec(parsed.specifier, 'not a PEP 440 version specifier');
        }
      }
    } catch (error) {
      // Say what is there, so the user can pick: the same listing as for a spec that matches nothing.
      if (!(error instanceof BlastError)) throw error;
      const { interpreters } = await d.discover();
      throw new BlastError(`${error.message}\n${foundList(interpreters, d.env)}`, error.exitCode, error.hint);
    }
    return await choose(d, parsed);
  } finally {
    d.cache.save();
  }
}

async function choose(d: Discovery, spec: PythonSpec): Promise<Interpreter> {
  if (spec.kind === 'path') return rejectUnsupported(await d.atPath(spec.path));
  if (spec.kind === 'name') {
    const hit = d.findOnPath(spec.name);
    if (hit) {
      const interp = await d.atPath(hit.path);
      return rejectUnsupported({ ...interp, source: 'path' });
    }
    if (!spec.orVersion) throw await d.notFound(`No executable named ${spec.name} on PATH.`);
  }
  const matches = await specMatcher(spec);
  const def = await d.defaultInterpreter();
  if (def && matches(def)) return def;
  const { interpreters } = await d.discover();
  if (spec.kind === 'default') {
    // No python3 on PATH: the best Python found anywhere else.
    const best = interpreters.find((i) => i.supported);
    if (best) return best;
    throw await d.notFound('No usable Python was found.');
  }
  const matching = interpreters.filter(matches);
  const usable = matching.find((i) => i.supported);
  if (usable) return usable;
  if (matching[0]) return rejectUnsupported(matching[0]);
  throw await d.notFound(`No Python matches ${describeSpec(spec)}.`);
}

/** Every interpreter found (supported or not), highest version first, the default one marked. */
export async function listInterpreters(opts: DiscoveryOptions): Promise<Interpreter[]> {
  return (await discoverInterpreters(opts)).interpreters;
}

/** listInterpreters plus the candidates that turned out not to be usable Pythons (for `blast check`). */
export async function discoverInterpreters(opts: DiscoveryOptions): Promise<Discovered> {
  const d = new Discovery(opts);
  try {
    return await d.discover();
  } finally {
    d.cache.save();
  }
}
