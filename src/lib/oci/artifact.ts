/**
 * What a snapshot is as an OCI artifact (see docs/sync.md):
 *
 *   manifest  application/vnd.oci.image.manifest.v1+json, artifactType SNAPSHOT_TYPE,
 *             annotations org.opencontainers.image.{created,title,description} + org.blast.*
 *   config    CONFIG_TYPE: SnapshotConfig as JSON — Python, variables, settings, every
 *             distribution (name, version, wheel file name and sha256, its wheel tags, its files
 *             by sha256 and mode, its layer's digest) and the PEP 751 pylock.toml
 *   layers    LAYER_TYPE, one per distribution: a deterministic tar of its files (tar.ts)
 *
 * Nothing absolute from the pushing machine travels. Console scripts are stored with the wheel
 * spec's `#!python` placeholder where their shebang named the environment's python (the entry
 * says which, e.g. `bin/python3`), and their RECORD lines carry that placeholder form's hash;
 * the pulling machine writes its own shebang and RECORD lines. Bytecode (`__pycache__/*.pyc`)
 * stays home: it holds the compiling environment's path and source mtimes, and Python writes it
 * again on first import. So one distribution makes the same layer in every environment and on
 * every machine, and a registry stores it once.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { SettingValue } from '../plugin-host/contract.js';
import { insideEnv, recordPaths } from '../store/dists.js';
import { type DistEntry, type Entry, type FileEntry, isLink, safeRelPath } from '../store/manifest.js';
import { type ObjectStore, tempName } from '../store/objects.js';
import { csvRow, recordHash, shebang } from '../venv/scripts.js';
import { readTar, TarWriter } from './tar.js';

export const SNAPSHOT_TYPE = 'application/vnd.blast.snapshot.v1';
export const CONFIG_TYPE = 'application/vnd.blast.snapshot.config.v1+json';
export const LAYER_TYPE = 'application/vnd.blast.distribution.v1.tar';
const PLACEHOLDER = Buffer.from('#!python\n');

export interface ConfigFile {
  path: string;
  sha256: string;
  mode: number;
  size: number;
  /** A console script stored with `#!python`: the environment's python it runs (`bin/python3`). */
  script?: string;
}

export type ConfigEntry = ConfigFile | { path: string; link: string };

export interface ConfigDist {
  name: string;
  version: string;
  distInfo: string;
  /** Its WHEEL file's tags: an interpreter that accepts none of them cannot use it. */
  tags: string[];
  /** The archive it was installed from (pip's report), for the lock. */
  wheel?: { filename: string; sha256: string };
  /** The digest of its layer. */
  layer: string;
  files: ConfigEntry[];
}

export interface SnapshotConfig {
  v: 1;
  createdAt: string;
  /** The snapshot's name on the pushing machine (or `current`). */
  snapshot: string;
  python: { version: string; implementation: string };
  sitePackages: string;
  variables?: Record<string, string>;
  settings?: Record<string, SettingValue>;
  distributions: ConfigDist[];
  /** PEP 751 lock of the same distributions, for tools without Blast. */
  pylock: string;
}

const isPyc = (path: string) => /(^|\/)__pycache__\/[^/]+\.pyc$/.test(path);

/** `(python, body)` when `content` is a script whose shebang names a python of the environment `root`. */
function envScript(content: Buffer, root: string): { python: string; body: Buffer } | undefined {
  if (content[0] !== 0x23 || content[1] !== 0x21) return undefined; // "#!"
  const lines: number[] = [];
  for (let i = 0; i < content.length && lines.length < 3; i++) if (content[i] === 0x0a) lines.push(i);
  const first = content.subarray(2, lines[0]).toString('utf8');
  const inEnv = (p: string) => {
    const rel = relative(root, p);
    return /^bin\/python[0-9.]*$/.test(rel) ? rel : undefined;
  };
  if (first === '/bin/sh' && lines.length === 3) {
    // distlib's trick for paths a #! line cannot hold (see venv/scripts.ts).
    const exec = content.subarray(lines[0]! + 1, lines[1]).toString('utf8');
    const m = /^'''exec' (?:"([^"]*)"|'([^']*)') "\$0" "\$@"$/.exec(exec);
    const python = m ? inEnv(m[1] ?? m[2]!) : undefined;
    if (python && content.subarray(lines[1]! + 1, lines[2]).toString() === "' '''")
      return { python, body: content.subarray(lines[2]! + 1) };
    return undefined;
  }
  const python = lines.length ? inEnv(first.trim()) : undefined;
  return python ? { python, body: content.subarray(lines[0]! + 1) } : undefined;
}

/** RECORD with the rows of `changed` (environment-relative paths) given their new bytes' hash and size. */
export function rewriteRecord(
  text: string,
  sitePackages: string,
  changed: ReadonlyMap<string, Buffer>,
): string {
  if (changed.size === 0) return text;
  return text
    .split('\n')
    .map((line) => {
      if (!line) return line;
      const [path] = recordPaths(line);
      const rel = path === undefined ? undefined : insideEnv('/env', sitePackages, path);
      const data = rel === undefined ? undefined : changed.get(rel);
      return data ? csvRow([path!, recordHash(data), String(data.length)]) : line;
    })
    .join('\n');
}

export interface BuiltLayer {
  dist: ConfigDist;
  file: string;
  size: number;
}

/** The WHEEL file's `Tag:` lines. */
function wheelTags(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => /^Tag:/i.test(l))
    .map((l) => l.slice(4).trim())
    .filter(Boolean);
}

/**
 * Write the layer of one distribution of the environment `root` into `dir` (a temporary file):
 * its files from the store, in path order, console scripts and RECORD in their portable form.
 */
export function buildLayer(
  store: ObjectStore,
  root: string,
  sitePackages: string,
  dist: DistEntry,
  dir: string,
): BuiltLayer {
  const read = (e: FileEntry): Buffer => {
    const checked = store.verify(e, e);
    if (checked.state !== 'ok') {
      throw new BlastError(
        `The store's copy of ${e.path} (${dist.name} ${dist.version}) is ${checked.state}; nothing was pushed.`,
        ExitCode.failure,
        '`blast check --deep` says more; reinstall the distribution, save again, then push.',
      );
    }
    return readFileSync(store.pathOf(e));
  };
  const entries = dist.files.filter((e) => !isPyc(e.path)).sort((a, b) => (a.path < b.path ? -1 : 1));
  const portable = new Map<string, Buffer>();
  const scripts = new Map<string, string>();
  let tags: string[] = [];
  for (const e of entries) {
    if (isLink(e)) continue;
    if (e.path === `${dist.distInfo}/WHEEL`) tags = wheelTags(read(e).toString('utf8'));
    if (!e.path.startsWith('bin/')) continue;
    const script = envScript(read(e), root);
    if (!script) continue;
    portable.set(e.path, Buffer.concat([PLACEHOLDER, script.body]));
    scripts.set(e.path, script.python);
  }
  const record = entries.find((e) => e.path === `${dist.distInfo}/RECORD`);
  if (record && !isLink(record) && portable.size)
    portable.set(
      record.path,
      Buffer.from(rewriteRecord(read(record).toString('utf8'), sitePackages, portable)),
    );
  const file = tempName(dir);
  const fd = openSync(file, 'wx', 0o600);
  const files: ConfigEntry[] = [];
  let end: { digest: string; size: number };
  try {
    const tar = new TarWriter(fd);
    for (const e of entries) {
      if (isLink(e)) {
        tar.symlink(e.path, e.link);
        files.push({ path: e.path, link: e.link });
        continue;
      }
      const data = portable.get(e.path);
      if (data) {
        tar.bytes(e.path, e.mode, data);
        const sha256 = createHash('sha256').update(data).digest('hex');
        const script = scripts.get(e.path);
        files.push({ path: e.path, sha256, mode: e.mode, size: data.length, ...(script ? { script } : {}) });
      } else {
        read(e); // verified
        tar.file(e.path, e.mode, store.pathOf(e), e.size);
        files.push({ path: e.path, sha256: e.sha256, mode: e.mode, size: e.size });
      }
    }
    end = tar.end();
  } finally {
    closeSync(fd);
  }
  return {
    dist: { name: dist.name, version: dist.version, distInfo: dist.distInfo, tags, layer: end.digest, files },
    file,
    size: end.size,
  };
}

const HEX64 = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

function configProblem(c: unknown): string | undefined {
  if (!c || typeof c !== 'object') return 'it is not a JSON object';
  const o = c as Record<string, unknown>;
  if (o.v !== 1) return `unknown version ${JSON.stringify(o.v)}`;
  const py = o.python as Record<string, unknown> | undefined;
  if (!py || typeof py.version !== 'string' || !/^\d+\.\d+/.test(py.version)) return 'no Python version';
  if (!safeRelPath(o.sitePackages)) return 'bad sitePackages';
  if (typeof o.pylock !== 'string') return 'no pylock';
  if (!Array.isArray(o.distributions)) return 'no distributions';
  for (const d of o.distributions as Array<Record<string, unknown>>) {
    if (typeof d?.name !== 'string' || typeof d.version !== 'string')
      return 'a distribution has no name or version';
    if (!safeRelPath(d.distInfo)) return `${d.name}: bad distInfo`;
    if (typeof d.layer !== 'string' || !DIGEST.test(d.layer)) return `${d.name}: bad layer digest`;
    if (!Array.isArray(d.tags) || !d.tags.every((t) => typeof t === 'string')) return `${d.name}: bad tags`;
    if (!Array.isArray(d.files)) return `${d.name}: no files`;
    for (const f of d.files as Array<Record<string, unknown>>) {
      if (!safeRelPath(f?.path)) return `${d.name}: a path leaves the environment`;
      if ('link' in f) {
        if (typeof f.link !== 'string' || f.link === '' || f.link.startsWith('/'))
          return `${f.path}: bad link`;
        continue;
      }
      if (typeof f.sha256 !== 'string' || !HEX64.test(f.sha256)) return `${f.path}: bad sha256`;
      if (!Number.isInteger(f.mode) || (f.mode as number) < 0 || (f.mode as number) > 0o7777)
        return `${f.path}: bad mode`;
      if (!Number.isInteger(f.size) || (f.size as number) < 0) return `${f.path}: bad size`;
      if (f.script !== undefined && (typeof f.script !== 'string' || !/^bin\/python[0-9.]*$/.test(f.script)))
        return `${f.path}: bad script python`;
    }
  }
  return undefined;
}

export function parseConfig(bytes: Buffer, ref: string): SnapshotConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const problem = configProblem(parsed);
  if (problem) {
    throw new BlastError(
      `${ref} is not a Blast snapshot Blast can read: its config is ${parsed === undefined ? 'not JSON' : `invalid (${problem})`}; nothing was changed.`,
      ExitCode.failure,
    );
  }
  return parsed as SnapshotConfig;
}

/** Whether the store has every object of the distribution's files (as the config lists them). */
export function storeHas(store: ObjectStore, dist: ConfigDist): boolean {
  return dist.files.every((f) => 'link' in f || store.verify(f, { size: f.size }).state === 'ok');
}

/**
 * Put the files of a verified layer into the store, each checked against the config (path,
 * sha256, mode): a layer whose content is not what the config lists is refused. Objects arrive
 * under a temporary name beside the store's objects and are renamed into place (storeBytes).
 */
export function storeLayer(store: ObjectStore, file: string, dist: ConfigDist): void {
  const wanted = new Map(dist.files.map((f) => [f.path, f]));
  const seen = new Set<string>();
  const refuse = (why: string) =>
    new BlastError(
      `The layer of ${dist.name} ${dist.version} does not match the snapshot's config (${why}); nothing was changed.`,
      ExitCode.failure,
      'The artifact was not written by `blast push`, or was changed after it.',
    );
  for (const entry of readTar(file)) {
    const want = wanted.get(entry.path);
    if (!want) throw refuse(`${entry.path} is not listed`);
    seen.add(entry.path);
    if (entry.type === 'symlink') {
      if (!('link' in want) || want.link !== entry.target) throw refuse(`${entry.path} is another link`);
      continue;
    }
    if ('link' in want) throw refuse(`${entry.path} should be a link`);
    const sha256 = createHash('sha256').update(entry.data).digest('hex');
    if (sha256 !== want.sha256 || entry.mode !== want.mode || entry.size !== want.size)
      throw refuse(`${entry.path} has other bytes or mode`);
    if (store.verify(want, { size: want.size }).state === 'ok') continue;
    store.storeBytes({ sha256, mode: want.mode }, entry.data);
  }
  const lacking = dist.files.filter((f) => !seen.has(f.path));
  if (lacking.length) throw refuse(`${lacking[0]!.path} is missing`);
}

/**
 * The distribution as the environment `root` has it: its files' paths under this machine's
 * site-packages, console scripts with this machine's shebang (and RECORD lines to match), every
 * object in the store with its seal.
 */
export function localDist(
  store: ObjectStore,
  dist: ConfigDist,
  root: string,
  from: string,
  sitePackages: string,
): DistEntry {
  const move = (p: string) =>
    p === from || p.startsWith(`${from}/`) ? sitePackages + p.slice(from.length) : p;
  const local = new Map<string, Buffer>();
  for (const f of dist.files) {
    if ('link' in f || !f.script) continue;
    const data = readFileSync(store.pathOf(f));
    const body = data.subarray(PLACEHOLDER.length);
    local.set(move(f.path), Buffer.concat([Buffer.from(shebang(join(root, f.script))), body]));
  }
  const files: Entry[] = [];
  for (const f of dist.files) {
    const path = move(f.path);
    if ('link' in f) {
      files.push({ path, link: f.link });
      continue;
    }
    let data = local.get(path);
    if (!data && path === `${move(dist.distInfo)}/RECORD` && local.size)
      data = Buffer.from(rewriteRecord(readFileSync(store.pathOf(f), 'utf8'), sitePackages, local));
    if (data) {
      const sha256 = createHash('sha256').update(data).digest('hex');
      const { seal } = store.storeBytes({ sha256, mode: f.mode }, data);
      files.push({ path, sha256, mode: f.mode, size: data.length, mtimeMs: seal.mtimeMs });
      continue;
    }
    const st = store.statOf(f);
    files.push({
      path,
      sha256: f.sha256,
      mode: f.mode,
      size: f.size,
      ...(st ? { mtimeMs: st.mtimeMs } : {}),
    });
  }
  return { name: dist.name, version: dist.version, distInfo: move(dist.distInfo), files };
}
