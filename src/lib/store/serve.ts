/**
 * A stored distribution served into any compatible environment: a distribution version the store
 * holds — from any environment's revisions or snapshots — is linked into this environment from
 * the store instead of being unpacked again by pip (uv's and pnpm's warm cache).
 *
 * Compatible: the same Python minor and site-packages layout, and wheel tags (its `WHEEL` file)
 * this interpreter accepts — a pure wheel (`*-none-any`), or one installed with the same base
 * interpreter, or one whose tags the interpreter's `sys_tags()` list (asked once per
 * environment, cached). Every object it needs must be in the store and intact (its seal), else
 * it is not served (pip installs it).
 *
 * Shared: every file as the wheel unpacked it (objects, linked as BLAST_LINK_MODE says). Never
 * shared, regenerated for this environment:
 * - scripts in `bin/` (console scripts and `.data/scripts`) whose shebang names the source
 *   environment's python get this environment's, exactly as pip writes them (distlib's
 *   `/bin/sh` exec form for a path with a space or too long; `#!python` data scripts plain);
 * - `INSTALLER` (`blast`), `REQUESTED` (present when the distribution was asked for, as pip does);
 * - `RECORD`: the source's lines, with the regenerated files' hashes and sizes, without the
 *   bytecode lines;
 * - `.pyc` files are not served at all (they embed the path of the environment that compiled
 *   them): Python compiles on first import, as after `pip install --no-compile`.
 * A distribution from this environment's own history is served as it was (nothing to adapt).
 *
 * API (the shim calls it after pip's dry-run report, inside its pip transaction, which holds the
 * environment's lock and undoes everything on a failure or a kill -9):
 *
 *   const { served, missing } = await serveFromStore(envPath, [{ name, version, wheelName, hash }], { current });
 *   // then pip installs `missing` only (`--no-deps`); the transaction records one revision.
 *
 * After pip installed the rest, `rememberWheels(store, [{ name, version, metadataSha256, filename,
 * sha256, url }])` (wheels.ts) with what pip's report said, so a later `save --lock` pins them.
 *
 * `current` is the transaction's snapshot of the environment before (saves taking another). The
 * served distributions replace installed ones of the same name (pip's upgrade), through one
 * journaled restore (restore.ts), so a kill -9 mid-way is finished or undone like any restore.
 * `planServe` only plans (nothing in the environment changes; new objects for the regenerated
 * files go into the store): `blast load --lock` uses it for its store part.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Env } from '../paths.js';
import { readVenv } from '../venv/cfg.js';
import { distKey, type IndexedDist, type IndexedSource, manifestOfFile, storedIndex } from './dist-index.js';
import { insideEnv, recordPaths } from './dists.js';
import { envStateDir } from './journal-files.js';
import {
  type DistEntry,
  type Entry,
  type FileEntry,
  isLink,
  type Manifest,
  snapshotEnv,
} from './manifest.js';
import { ObjectStore } from './objects.js';
import { latestManifest } from './history.js';
import { restoreUnlocked, type RestoreResult } from './restore.js';
import { knownWheels, rememberWheels, type WheelOrigin, wheelKey } from './wheels.js';
import { normalizeName } from '../python/names.js';

export interface WantedDist {
  name: string;
  version: string;
  /** The wheel pip would install (its file name: its tags must be the stored one's). */
  wheelName?: string;
  /** That wheel's sha256: a stored distribution known to come from another archive is not served. */
  hash?: string;
  /** Archives any of which will do (a lock's hashes): as `hash`, for each. */
  hashes?: string[];
  /** Asked for by the user (pip writes REQUESTED then); default true. */
  requested?: boolean;
}

export interface ServePlan {
  wanted: WantedDist;
  /** The distribution as it will be in this environment: every object in the store. */
  dist: DistEntry;
  /** The environment whose revision or snapshot it comes from. */
  from: string;
  /** The wheel it was installed from, when known. */
  wheel?: WheelOrigin;
}

export interface ServedDist {
  name: string;
  version: string;
  from: string;
  files: number;
  wheel?: WheelOrigin;
}

export interface ServeResult {
  served: ServedDist[];
  /** What the store cannot serve here: pip installs these. */
  missing: WantedDist[];
  /** The restore that linked them (absent when nothing was served). */
  restore?: RestoreResult;
}

export interface ServeOptions {
  env?: Env;
  store?: ObjectStore;
  /** The environment as it is now (a transaction's snapshot before); taken when absent. */
  current?: Manifest;
  /** This interpreter's accepted wheel tags, when the caller knows them (else asked when needed). */
  tags?: string[];
}

const minorOf = (v: string) => /^(\d+\.\d+)/.exec(v)?.[1];
const isPyc = (rel: string) => rel.endsWith('.pyc') && rel.includes('__pycache__/');

/** What decides whether a stored distribution fits this environment. */
interface Target {
  root: string;
  python: string;
  sitePackages: string;
  /** `home` and version of pyvenv.cfg: the same base interpreter. */
  base: string;
  tags: () => Set<string>;
}

function baseOf(envPath: string): string | undefined {
  try {
    const cfg = readVenv(envPath);
    return `${cfg.home}\0${cfg.version ?? ''}\0${cfg.executable ?? ''}`;
  } catch {
    return undefined;
  }
}

const TAGS_SCRIPT =
  'import json\nfrom pip._vendor.packaging.tags import sys_tags\nprint(json.dumps([str(t) for t in sys_tags()]))';

/** The interpreter's accepted tags, cached in the environment's state dir by its pyvenv.cfg. */
function interpreterTags(root: string, env: Env | undefined): Set<string> {
  const cfg = readFileSync(join(root, 'pyvenv.cfg'), 'utf8');
  const key = createHash('sha256').update(cfg).digest('hex');
  const file = join(envStateDir(root, env), 'tags.json');
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; tags?: unknown };
    if (cached.key === key && Array.isArray(cached.tags)) return new Set(cached.tags.map(String));
  } catch {
    // not cached yet
  }
  let tags: string[] = [];
  try {
    tags = JSON.parse(
      execFileSync(join(root, 'bin', 'python'), ['-I', '-c', TAGS_SCRIPT], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        env: (env ?? process.env) as NodeJS.ProcessEnv,
      }),
    ) as string[];
  } catch {
    return new Set(); // no pip to ask: only pure wheels and the same base interpreter fit
  }
  try {
    mkdirSync(envStateDir(root, env), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify({ key, tags }), { mode: 0o600 });
  } catch {
    // a cache only
  }
  return new Set(tags);
}

function targetOf(root: string, env: Env | undefined, sitePackages: string, tags?: string[]): Target {
  let known: Set<string> | undefined = tags ? new Set(tags) : undefined;
  return {
    root,
    python: readVenv(root).version ?? '',
    sitePackages,
    base: baseOf(root) ?? '',
    tags: () => (known ??= interpreterTags(root, env)),
  };
}

const pure = (tags: readonly string[]) => tags.length > 0 && tags.every((t) => t.endsWith('-none-any'));
const sameTags = (a: readonly string[], b: readonly string[]) =>
  [...a].sort().join(' ') === [...b].sort().join(' ');

/** The tags a wheel file name carries (`name-ver[-build]-py-abi-plat.whl`). */
function tagsOfWheelName(filename: string): string[] | undefined {
  const parts = filename.replace(/\.whl$/, '').split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const out: string[] = [];
  for (const p of py.split('.'))
    for (const a of abi.split('.')) for (const l of plat.split('.')) out.push(`${p}-${a}-${l}`);
  return out;
}

function fits(
  source: IndexedSource,
  dist: IndexedDist,
  target: Target,
  want: WantedDist,
  bases: Map<string, string | undefined>,
): boolean {
  if (minorOf(source.python) !== minorOf(target.python) || source.sitePackages !== target.sitePackages)
    return false;
  if (want.wheelName && dist.tags.length) {
    const named = tagsOfWheelName(want.wheelName);
    if (named && !sameTags(named, dist.tags)) return false;
  }
  if (resolve(source.env) === target.root || pure(dist.tags)) return true;
  if (!bases.has(source.env)) bases.set(source.env, baseOf(source.env));
  if (bases.get(source.env) === target.base && target.base !== '') return true;
  const accepted = target.tags();
  return dist.tags.some((t) => accepted.has(t));
}

/** Put `data` into the store as an object with `mode`; its manifest entry at `path`. */
function putBytes(store: ObjectStore, path: string, data: Buffer, mode: number): FileEntry {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const { seal } = store.storeBytes({ sha256, mode }, data);
  return { path, sha256, mode, size: data.length, mtimeMs: seal.mtimeMs };
}

/** Names in entry_points.txt's [console_scripts] and [gui_scripts]. */
function scriptNames(text: string): Set<string> {
  const out = new Set<string>();
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const s = /^\[(.+)\]$/.exec(line);
    if (s) section = s[1]!.trim();
    else if ((section === 'console_scripts' || section === 'gui_scripts') && line.includes('='))
      out.add(line.slice(0, line.indexOf('=')).trim());
  }
  return out;
}

/**
 * A script's bytes with this environment's interpreter in its shebang, written as pip writes it,
 * or undefined when its shebang does not name the source environment (nothing to change).
 */
export function reshebang(
  data: Buffer,
  srcRoot: string,
  root: string,
  consoleScript: boolean,
): Buffer | undefined {
  const text = data.toString('latin1');
  const lines = text.split('\n');
  let exe: string | undefined;
  let post = '';
  let bodyFrom = 1;
  const sh = lines[0] === '#!/bin/sh' ? /^'''exec' (".*"|\S+)(.*) "\$0" "\$@"$/.exec(lines[1] ?? '') : null;
  if (sh && lines[2] === "' '''") {
    exe = sh[1]!.startsWith('"') ? sh[1]!.slice(1, -1) : sh[1]!;
    post = sh[2]!;
    bodyFrom = 3;
  } else if (lines[0]?.startsWith('#!')) {
    const line = lines[0].slice(2).replace(/\r$/, '');
    if (line.startsWith(`${srcRoot}/`)) {
      // The path may hold spaces (pip's data scripts write it unquoted): the root is known.
      const rest = line.slice(srcRoot.length);
      const space = rest.indexOf(' ');
      exe = srcRoot + (space < 0 ? rest : rest.slice(0, space));
      post = space < 0 ? '' : rest.slice(space);
    } else {
      const m = /^("[^"]*"|\S+)(.*)$/.exec(line);
      if (m) {
        exe = m[1]!.startsWith('"') ? m[1]!.slice(1, -1) : m[1]!;
        post = m[2]!;
      }
    }
  }
  if (!exe || !exe.startsWith(`${srcRoot}/`)) return undefined;
  const executable = root + exe.slice(srcRoot.length);
  let header: string;
  if (consoleScript) {
    // distlib's ScriptMaker._build_shebang, as pip uses it for console scripts.
    const quoted = executable.includes(' ') ? `"${executable}"` : executable;
    const simple = !quoted.includes(' ') && Buffer.byteLength(quoted) + Buffer.byteLength(post) + 3 <= 127;
    header = simple ? `#!${quoted}${post}\n` : `#!/bin/sh\n'''exec' ${quoted}${post} "$0" "$@"\n' '''\n`;
  } else {
    // pip's fix_script for a wheel's .data/scripts: `#!` and sys.executable.
    header = `#!${executable}${post}\n`;
  }
  return Buffer.concat([
    Buffer.from(header, 'latin1'),
    Buffer.from(lines.slice(bodyFrom).join('\n'), 'latin1'),
  ]);
}

/** `sha256=<urlsafe base64, unpadded>` as RECORD has it. */
const recordHash = (sha256: string) => `sha256=${Buffer.from(sha256, 'hex').toString('base64url')}`;

/** A RECORD line's first field as written (quoted or not) and the rest. */
function firstField(line: string): { raw: string; rest: string } {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma < 0 ? { raw: line, rest: '' } : { raw: line.slice(0, comma), rest: line.slice(comma) };
  }
  let i = 1;
  while (i < line.length) {
    if (line[i] === '"') {
      if (line[i + 1] === '"') {
        i += 2;
        continue;
      }
      break;
    }
    i++;
  }
  return { raw: line.slice(0, i + 1), rest: line.slice(i + 1) };
}

/**
 * The source distribution adapted to this environment: scripts, INSTALLER, REQUESTED and RECORD
 * regenerated (their objects put into the store), bytecode left out.
 */
function adapt(
  store: ObjectStore,
  source: Manifest,
  dist: DistEntry,
  root: string,
  requested: boolean,
): DistEntry {
  const srcRoot = resolve(source.env);
  const read = (e: FileEntry) => readFileSync(store.pathOf(e));
  const byPath = new Map<string, FileEntry>();
  for (const e of dist.files) if (!isLink(e)) byPath.set(e.path, e);
  const entryPoints = byPath.get(`${dist.distInfo}/entry_points.txt`);
  const consoles = entryPoints ? scriptNames(read(entryPoints).toString('utf8')) : new Set<string>();
  const regenerated = new Map<string, FileEntry>();
  for (const e of byPath.values()) {
    if (!e.path.startsWith('bin/')) continue;
    const name = e.path.slice(4);
    const data = read(e);
    const fixed = reshebang(data, srcRoot, root, consoles.has(name));
    if (fixed && !fixed.equals(data)) regenerated.set(e.path, putBytes(store, e.path, fixed, e.mode));
  }
  const installer = `${dist.distInfo}/INSTALLER`;
  const requestedPath = `${dist.distInfo}/REQUESTED`;
  regenerated.set(
    installer,
    putBytes(store, installer, Buffer.from('blast\n'), byPath.get(installer)?.mode ?? 0o644),
  );
  if (requested)
    regenerated.set(
      requestedPath,
      putBytes(store, requestedPath, Buffer.alloc(0), byPath.get(requestedPath)?.mode ?? 0o644),
    );
  const recordPath = `${dist.distInfo}/RECORD`;
  const recordEntry = byPath.get(recordPath);
  const lines: string[] = [];
  const listed = new Set<string>();
  const distInfoName = dist.distInfo.slice(dist.distInfo.lastIndexOf('/') + 1);
  if (recordEntry) {
    for (const line of read(recordEntry).toString('utf8').split(/\r?\n/)) {
      if (!line) continue;
      const { raw } = firstField(line);
      const recorded = recordPaths(raw)[0] ?? '';
      const rel = insideEnv(srcRoot, source.sitePackages, recorded);
      if (rel && isPyc(rel)) continue;
      if (rel === requestedPath && !requested) continue;
      if (rel) listed.add(rel);
      const now = rel ? regenerated.get(rel) : undefined;
      lines.push(now ? `${raw},${recordHash(now.sha256)},${now.size}` : line);
    }
  }
  for (const path of [installer, requestedPath]) {
    const now = regenerated.get(path);
    if (now && !listed.has(path))
      lines.push(
        `${distInfoName}/${path.slice(dist.distInfo.length + 1)},${recordHash(now.sha256)},${now.size}`,
      );
  }
  const record = putBytes(
    store,
    recordPath,
    Buffer.from(lines.join('\n') + '\n'),
    recordEntry?.mode ?? 0o644,
  );
  regenerated.set(recordPath, record);
  const files: Entry[] = [];
  for (const e of dist.files) {
    if (isPyc(e.path)) continue;
    if (e.path === requestedPath && !requested) continue;
    files.push(regenerated.get(e.path) ?? e);
  }
  for (const path of [installer, requestedPath, recordPath])
    if (regenerated.has(path) && !files.some((f) => f.path === path)) files.push(regenerated.get(path)!);
  return { name: dist.name, version: dist.version, distInfo: dist.distInfo, files };
}

/** Every object the distribution needs (bytecode aside) is in the store and intact. */
function complete(store: ObjectStore, dist: DistEntry): boolean {
  return dist.files.every((f) => isLink(f) || isPyc(f.path) || store.verify(f, f).state === 'ok');
}

/**
 * For each wanted distribution, the stored one that fits this environment, adapted to it (its
 * regenerated files stored); the rest are `missing`. Nothing in the environment changes.
 */
export function planServe(
  envPath: string,
  wanted: readonly WantedDist[],
  options: { env?: Env; store?: ObjectStore; sitePackages: string; tags?: string[] },
): { plans: ServePlan[]; missing: WantedDist[] } {
  const store = options.store ?? ObjectStore.of(options.env);
  const root = resolve(envPath);
  const target = targetOf(root, options.env, options.sitePackages, options.tags);
  const index = storedIndex(store);
  // This environment's own history first: nothing to adapt.
  const sources = [
    ...index.filter((s) => resolve(s.env) === root),
    ...index.filter((s) => resolve(s.env) !== root),
  ];
  const origins = knownWheels(store);
  const manifests = new Map<string, Manifest | null>();
  const manifestOf = (s: IndexedSource) => {
    if (!manifests.has(s.file)) {
      try {
        manifests.set(s.file, manifestOfFile(store, s.file, s.kind));
      } catch {
        manifests.set(s.file, null);
      }
    }
    return manifests.get(s.file) ?? undefined;
  };
  const bases = new Map<string, string | undefined>();
  const plans: ServePlan[] = [];
  const missing: WantedDist[] = [];
  for (const want of wanted) {
    const key = distKey(want.name, want.version);
    let plan: ServePlan | undefined;
    for (const source of sources) {
      const indexed = source.dists.find((d) => distKey(d.name, d.version) === key);
      if (!indexed || !fits(source, indexed, target, want, bases)) continue;
      const origin = indexed.metadata
        ? origins.get(wheelKey(indexed.name, indexed.version, indexed.metadata))
        : undefined;
      const allowed = [...(want.hash ? [want.hash] : []), ...(want.hashes ?? [])].map((h) => h.toLowerCase());
      if (allowed.length && origin && !allowed.includes(origin.sha256)) continue; // another build
      const manifest = manifestOf(source);
      const dist = manifest?.distributions.find((d) => d.distInfo === indexed.distInfo);
      if (!manifest || !dist || !complete(store, dist)) continue;
      const own = resolve(manifest.env) === root;
      const wheel: WheelOrigin | undefined =
        want.wheelName && want.hash ? { filename: want.wheelName, sha256: want.hash.toLowerCase() } : origin;
      plan = {
        wanted: want,
        dist: own ? dist : adapt(store, manifest, dist, root, want.requested ?? true),
        from: manifest.env,
        ...(wheel ? { wheel } : {}),
      };
      break;
    }
    if (plan) plans.push(plan);
    else missing.push(want);
  }
  return { plans, missing };
}

/**
 * Remember the wheels served distributions came from, keyed by their METADATA (not regenerated,
 * so the same key as the source's).
 */
export function rememberServed(store: ObjectStore, plans: readonly ServePlan[]): void {
  const notes = plans.flatMap((p) => {
    const metadata = p.dist.files.find((f) => f.path === `${p.dist.distInfo}/METADATA`);
    return p.wheel && metadata && !isLink(metadata)
      ? [{ name: p.dist.name, version: p.dist.version, metadataSha256: metadata.sha256, ...p.wheel }]
      : [];
  });
  try {
    rememberWheels(store, notes);
  } catch {
    // a lock can still ask pip for the archives
  }
}

/**
 * Link every wanted distribution the store has for this environment into it, replacing an
 * installed one of the same name; returns what was served and what pip must install. Runs inside
 * the caller's transaction (it holds the environment's lock): the link is one journaled restore.
 */
export async function serveFromStore(
  envPath: string,
  wanted: readonly WantedDist[],
  options: ServeOptions = {},
): Promise<ServeResult> {
  const store = options.store ?? ObjectStore.of(options.env);
  const root = resolve(envPath);
  const current =
    options.current ?? snapshotEnv(root, { env: options.env, store, previous: latestManifest(store, root) });
  const { plans, missing } = planServe(root, wanted, {
    env: options.env,
    store,
    sitePackages: current.sitePackages,
    ...(options.tags ? { tags: options.tags } : {}),
  });
  if (plans.length === 0) return { served: [], missing };
  const replaced = new Set(plans.map((p) => normalizeName(p.dist.name)));
  const target: Manifest = {
    ...current,
    createdAt: new Date().toISOString(),
    distributions: [
      ...current.distributions.filter((d) => !replaced.has(normalizeName(d.name))),
      ...plans.map((p) => p.dist),
    ],
  };
  const restore = restoreUnlocked(root, target, {
    env: options.env,
    store,
    what: 'the stored distributions',
    // The rest of the environment is `current`, as just read: only the served names change.
    only: replaced,
  });
  rememberServed(store, plans);
  return {
    served: plans.map((p) => ({
      name: p.dist.name,
      version: p.dist.version,
      from: p.from,
      files: p.dist.files.length,
      ...(p.wheel ? { wheel: p.wheel } : {}),
    })),
    missing,
    restore,
  };
}
