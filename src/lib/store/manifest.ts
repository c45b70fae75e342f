/**
 * Snapshots: what an environment's installed distributions are, file by file, with every file's
 * content in the object store. Saved as JSON under `<store>/snapshots/<env-hash>/<name>.json`.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import type { SettingValue } from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import { readVenv } from '../venv/cfg.js';
import { installedDists, sitePackagesOf } from './dists.js';
import { HashCache, hashCachePath } from './hashcache.js';
import { hashFile, ObjectStore, type SealHint } from './objects.js';
import { envHash } from './journal-files.js';
import { InsideEnv } from './inside.js';
import { indexManifest } from './dist-index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { normalizeName } from '../python/names.js';

export interface FileEntry {
  /** Relative to the environment root, `/`-separated. */
  path: string;
  sha256: string;
  /** Permission bits (part of the object's key). */
  mode: number;
  size: number;
  /**
   * The object's mtime when it was stored: with `size`, its seal (objects.ts). A manifest written
   * before seals has none, and its objects are re-hashed before they are trusted.
   */
  mtimeMs?: number;
}

export interface LinkEntry {
  path: string;
  /** The symbolic link's target, as readlink gives it. */
  link: string;
}

export type Entry = FileEntry | LinkEntry;

export interface DistEntry {
  name: string;
  version: string;
  distInfo: string;
  files: Entry[];
}

export interface Manifest {
  v: 1;
  createdAt: string;
  /** The environment's absolute path when it was snapshotted. */
  env: string;
  /** `X.Y.Z` from pyvenv.cfg. */
  python: string;
  sitePackages: string;
  distributions: DistEntry[];
  /** The environment's own symbolic links outside distributions (bin/python*, lib64). */
  symlinks: LinkEntry[];
  /** Variables from the environment's blast.json, when it has one. */
  variables?: Record<string, string>;
  /** Plugin settings from the environment's blast.json (API 1.2), when it has some. */
  settings?: Record<string, SettingValue>;
}

export function isLink(entry: Entry): entry is LinkEntry {
  return 'link' in entry;
}

export { envHash };

/** Symbolic links at the environment's top level and in bin/ that no distribution owns. */
function envSymlinks(envPath: string, owned: Set<string>): LinkEntry[] {
  const out: LinkEntry[] = [];
  for (const dir of ['', 'bin']) {
    const abs = join(envPath, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs).sort()) {
      const rel = dir ? `${dir}/${name}` : name;
      if (owned.has(rel)) continue;
      const st = lstatSync(join(abs, name));
      if (st.isSymbolicLink()) out.push({ path: rel, link: readlinkSync(join(abs, name)) });
    }
  }
  return out;
}

/** Hash and store one file or link of the environment. */
export function entryOf(
  store: ObjectStore,
  envPath: string,
  rel: string,
  stats?: SnapshotStats,
  known?: FileEntry,
  cache?: HashCache,
): Entry | undefined {
  const abs = join(envPath, rel);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    return undefined; // RECORD lists files pip may not have written (uncompiled .pyc)
  }
  cache?.saw(rel);
  if (st.isSymbolicLink()) return { path: rel, link: readlinkSync(abs) };
  if (!st.isFile()) return undefined;
  const mode = st.mode & 0o7777;
  const reuse = (sha256: string, mtimeMs: number): FileEntry => {
    if (stats) {
      stats.files++;
      stats.reused = (stats.reused ?? 0) + 1;
    }
    return { path: rel, sha256, mode, size: st.size, mtimeMs };
  };
  // What the previous snapshot knew of the object this file would be, as a seal to check it by.
  const hintFor = (sha256: string): SealHint | undefined =>
    known && known.sha256 === sha256 && known.mode === mode ? known : undefined;
  // Still the very inode a previous snapshot stored (pip replaces files, never rewrites them), and
  // that object still as sealed (size and mtime: a write in place moves them): no need to hash.
  // The file still has the seal its object had when stored (size and mtime, to the millisecond,
  // mode): it is that content — a hard link to the object, or its clone or copy, which keep the
  // object's times. One lstat, not a stat of the object too, for each of a 50,000-file
  // environment's files. A write keeps neither size nor mtime; one that forges both is
  // deliberate, and `blast check --deep` finds it (objects.ts).
  if (known && known.mode === mode && known.size === st.size && known.mtimeMs === st.mtimeMs)
    return reuse(known.sha256, st.mtimeMs);
  // Hashed before while it was this very inode, unchanged since (the row holds its inode, size,
  // mtime and ctime: any write moves the ctime): its content is in the store, but it is not the
  // store's inode (a file pip wrote again with content the store already had, a seed's pip, a clone
  // or copy). Asked first: such a file needs no look at the object it is not. The object must be
  // intact too: it is checked against its seal.
  const cached = cache?.get(rel, st);
  if (cached !== undefined) {
    const checked = store.verify({ sha256: cached, mode }, hintFor(cached) ?? { size: st.size });
    if (checked.state === 'ok') return reuse(cached, checked.seal.mtimeMs);
  }
  let writtenInPlace = false;
  if (known && known.mode === mode && known.size === st.size) {
    const obj = store.statOf(known);
    if (obj && obj.ino === st.ino && obj.dev === st.dev) {
      if (known.mtimeMs !== undefined && obj.mtimeMs === known.mtimeMs)
        return reuse(known.sha256, obj.mtimeMs);
      writtenInPlace = true; // or touched: the hash below tells
    }
  } else if (known) {
    const obj = store.statOf(known);
    writtenInPlace = !!obj && obj.ino === st.ino && obj.dev === st.dev;
  }
  const sha256 = hashFile(abs);
  // The file is the inode of the object the previous snapshot stored, and no longer its bytes:
  // that object was damaged by a write in place. Quarantined now, before anything trusts it.
  if (writtenInPlace && known && sha256 !== known.sha256) store.quarantineObject(known);
  const { added, seal } = store.store(abs, { sha256, mode }, hintFor(sha256));
  // A file the store just took as its object (a hard link) is found by its seal next time, from
  // the manifest: a row for it would only make the cache, which every snapshot parses whole, big
  // (1.6 MB for the 8,000 files of numpy, pandas and scipy, 40 ms to read on each rollback).
  if (cache && !(added && store.sharesInodes())) {
    // Linking into the store changed the inode's ctime: cache the state as it is now.
    try {
      cache.set(rel, added ? lstatSync(abs) : st, sha256);
    } catch {
      // gone meanwhile
    }
  }
  if (stats) {
    stats.files++;
    if (added) {
      stats.newObjects++;
      stats.newBytes += st.size;
    }
  }
  return { path: rel, sha256, mode, size: st.size, mtimeMs: seal.mtimeMs };
}

export interface SnapshotStats {
  files: number;
  /** Files that were still the inode of a previous snapshot's object, so not read. */
  reused?: number;
  /** Objects the store did not have yet, and their bytes. */
  newObjects: number;
  newBytes: number;
}

/**
 * Hash every file of every installed distribution into the store and describe them. The
 * environment is not changed: its files gain a hard link from the store, nothing else. With
 * `previous` (an earlier snapshot of the same environment), files that are still the inode it
 * stored are not read again.
 */
export function snapshotEnv(
  envPath: string,
  options: {
    env?: Env;
    store?: ObjectStore;
    stats?: SnapshotStats;
    previous?: Manifest;
    /**
     * Read only these distributions (PEP 503 names) from disk; every other one still installed
     * with the same dist-info is taken from `previous` as it is, unread. For a transaction's record
     * after pip, whose plan names what pip touched (`previous` is its snapshot from just before).
     */
    only?: ReadonlySet<string>;
  } = {},
): Manifest {
  const store = options.store ?? ObjectStore.of(options.env);
  const root = resolve(envPath);
  const cfg = readVenv(root);
  const sitePackages = sitePackagesOf(root);
  const distributions: DistEntry[] = [];
  const owned = new Set<string>();
  const known = new Map<string, FileEntry>();
  const knownDists = new Map<string, DistEntry>();
  if (options.previous && resolve(options.previous.env) === root) {
    for (const d of options.previous.distributions) {
      knownDists.set(d.distInfo, d);
      for (const e of d.files) if (!isLink(e)) known.set(e.path, e);
    }
  }
  // A dist-info whose RECORD is still the very object the previous snapshot stored (sealed): the
  // distribution was not reinstalled, so its files are the previous snapshot's (RECORD not parsed).
  const reuse = (distInfo: string) => {
    const d = knownDists.get(distInfo);
    const record = known.get(`${distInfo}/RECORD`);
    if (!d || !record || record.mtimeMs === undefined) return undefined;
    try {
      const st = lstatSync(join(root, record.path));
      const obj = store.statOf(record);
      if (!obj || obj.ino !== st.ino || obj.dev !== st.dev || obj.mtimeMs !== record.mtimeMs)
        return undefined;
      if (obj.size !== record.size) return undefined;
    } catch {
      return undefined;
    }
    return { name: d.name, version: d.version, distInfo, paths: d.files.map((f) => f.path) };
  };
  const cache = new HashCache(hashCachePath(root, options.env));
  // A RECORD path under a directory the environment has as a symbolic link (a package directory
  // replaced by a link to a checkout) is not the environment's: it is neither linked into the
  // store nor restored nor removed later (see inside.ts).
  const guard = new InsideEnv(root);
  const untouched = new Map<string, DistEntry>();
  if (options.only && options.previous && resolve(options.previous.env) === root)
    for (const d of options.previous.distributions)
      if (!options.only.has(normalizeName(d.name))) untouched.set(d.distInfo, d);
  for (const dist of installedDists(root, sitePackages, store.sharesInodes() ? reuse : undefined)) {
    const same = untouched.get(dist.distInfo);
    if (same && same.name === dist.name && same.version === dist.version) {
      distributions.push(same);
      for (const e of same.files) owned.add(e.path);
      continue;
    }
    const files: Entry[] = [];
    for (const rel of dist.paths) {
      if (guard.problem(rel)) continue;
      const entry = entryOf(store, root, rel, options.stats, known.get(rel), cache);
      if (entry) {
        files.push(entry);
        owned.add(rel);
      }
    }
    distributions.push({ name: dist.name, version: dist.version, distInfo: dist.distInfo, files });
  }
  cache.save();
  const manifest: Manifest = {
    v: 1,
    createdAt: new Date().toISOString(),
    env: root,
    python: cfg.version ?? '',
    sitePackages,
    distributions,
    symlinks: envSymlinks(root, owned),
  };
  const { variables, settings } = readConfigParts(root);
  if (variables) manifest.variables = variables;
  if (settings) manifest.settings = settings;
  return manifest;
}

function validVariables(v: unknown): v is Record<string, string> {
  return (
    !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
  );
}

function validSettings(v: unknown): v is Record<string, SettingValue> {
  return (
    !!v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.values(v).every(
      (x) =>
        typeof x === 'string' ||
        typeof x === 'boolean' ||
        (Array.isArray(x) && x.every((item) => typeof item === 'string')),
    )
  );
}

/** The variables and settings of the environment's blast.json, when it has them. */
function readConfigParts(envPath: string): {
  variables?: Record<string, string>;
  settings?: Record<string, SettingValue>;
} {
  try {
    const config = JSON.parse(readFileSync(join(envPath, 'blast.json'), 'utf8')) as {
      variables?: unknown;
      settings?: unknown;
    };
    return {
      variables: validVariables(config.variables) ? { ...config.variables } : undefined,
      settings: validSettings(config.settings) ? { ...config.settings } : undefined,
    };
  } catch {
    // not a Blast environment, or no config: nothing to keep
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Validation: a manifest is read from disk and drives deletions, so every field is checked.

const HEX64 = /^[0-9a-f]{64}$/;

/** A relative, normalised path that stays inside the environment. */
export function safeRelPath(p: unknown): p is string {
  // One regular expression, not a split: a manifest of a large set checks thousands of paths.
  return typeof p === 'string' && p !== '' && !UNSAFE_PATH.test(p);
}

/** A leading `/`, an empty, `.` or `..` component, or a NUL. */
const UNSAFE_PATH = /^\/|\/\/|\/$|(^|\/)\.\.?(\/|$)|\0/;

function entryProblem(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') return 'an entry is not an object';
  const o = e as Record<string, unknown>;
  if (!safeRelPath(o.path))
    return `entry path ${JSON.stringify(o.path)} is not a relative path inside the environment`;
  if ('link' in o)
    return typeof o.link === 'string' && o.link !== '' ? undefined : `${o.path}: bad link target`;
  if (typeof o.sha256 !== 'string' || !HEX64.test(o.sha256)) return `${o.path}: bad sha256`;
  if (!Number.isInteger(o.mode) || (o.mode as number) < 0 || (o.mode as number) > 0o7777)
    return `${o.path}: bad mode`;
  if (!Number.isInteger(o.size) || (o.size as number) < 0) return `${o.path}: bad size`;
  if (o.mtimeMs !== undefined && !Number.isFinite(o.mtimeMs)) return `${o.path}: bad mtimeMs`;
  return undefined;
}

/** Why `m` is not a valid manifest, or undefined. */
export function manifestProblem(m: unknown): string | undefined {
  if (!m || typeof m !== 'object') return 'it is not a JSON object';
  const o = m as Record<string, unknown>;
  if (o.v !== 1) return `unknown version ${JSON.stringify(o.v)}`;
  for (const k of ['createdAt', 'env', 'python'] as const)
    if (typeof o[k] !== 'string') return `"${k}" is missing`;
  if (!safeRelPath(o.sitePackages)) return '"sitePackages" is not a relative path';
  if (!Array.isArray(o.distributions)) return '"distributions" is not a list';
  if (!Array.isArray(o.symlinks)) return '"symlinks" is not a list';
  const seen = new Set<string>();
  for (const d of o.distributions as unknown[]) {
    if (!d || typeof d !== 'object') return 'a distribution is not an object';
    const dist = d as Record<string, unknown>;
    if (typeof dist.name !== 'string' || typeof dist.version !== 'string')
      return 'a distribution has no name or version';
    if (!safeRelPath(dist.distInfo)) return `${dist.name}: bad "distInfo"`;
    if (!Array.isArray(dist.files)) return `${dist.name}: "files" is not a list`;
    for (const f of dist.files as unknown[]) {
      const problem = entryProblem(f);
      if (problem) return `${dist.name}: ${problem}`;
      seen.add((f as Entry).path);
    }
  }
  const links = new Set<string>();
  for (const l of o.symlinks as unknown[]) {
    const problem = entryProblem(l);
    if (problem) return `symlinks: ${problem}`;
    if (!('link' in (l as object))) return `symlinks: ${(l as Entry).path} is not a link`;
    links.add((l as Entry).path);
  }
  for (const d of o.distributions as Array<{ files: Entry[] }>)
    for (const f of d.files) if (isLink(f)) links.add(f.path);
  // A path under a link entry would be written through the link, wherever it points: refused.
  // A manifest has thousands of paths and a handful of links: each path is compared with each
  // link as a prefix, not split into its parents.
  const prefixes = [...links].map((l) => [l, `${l}/`] as const);
  for (const path of [...seen, ...links])
    for (const [dir, prefix] of prefixes)
      if (path.startsWith(prefix))
        return `${path} lies under ${dir}, which the snapshot has as a symbolic link`;
  if (o.variables !== undefined && !validVariables(o.variables)) return 'bad "variables"';
  if (o.settings !== undefined && !validSettings(o.settings)) return 'bad "settings"';
  return undefined;
}

/** Parse and validate a manifest's text; BlastError naming `source` when it is not one. */
export function parseManifest(text: string, source: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BlastError(`The snapshot ${source} is corrupt: ${messageOf(error)}.`, ExitCode.failure);
  }
  const problem = manifestProblem(parsed);
  if (problem) throw new BlastError(`The snapshot ${source} is corrupt: ${problem}.`, ExitCode.failure);
  return parsed as Manifest;
}

// ---------------------------------------------------------------------------------------------
// Saved snapshots.

export function snapshotsDir(store: ObjectStore, envPath: string): string {
  return join(store.root, 'snapshots', envHash(envPath));
}

export function saveManifest(store: ObjectStore, envPath: string, name: string, manifest: Manifest): string {
  const file = join(snapshotsDir(store, envPath), `${name}.json`);
  writeFileAtomic(file, JSON.stringify(manifest) + '\n', { step: 'save-manifest-temp' });
  indexManifest(store, file, manifest);
  return file;
}

export function readManifest(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BlastError(`No snapshot at ${file}.`, ExitCode.notFound);
    }
    throw new BlastError(`Cannot read ${file}: ${messageOf(error)}`);
  }
  return parseManifest(text, file);
}

export function loadSnapshot(store: ObjectStore, envPath: string, name: string): Manifest {
  return readManifest(join(snapshotsDir(store, envPath), `${name}.json`));
}

export interface SnapshotSummary {
  name: string;
  file: string;
  mtime: Date;
}

/** The environment's saved snapshots, oldest first. */
export function listSnapshots(store: ObjectStore, envPath: string): SnapshotSummary[] {
  const dir = snapshotsDir(store, envPath);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => ({ name: f.slice(0, -5), file: join(dir, f), mtime: statSync(join(dir, f)).mtime }))
    .sort((a, b) => a.mtime.getTime() - b.mtime.getTime() || (a.name < b.name ? -1 : 1));
}
