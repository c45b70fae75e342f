/**
 * The index of stored distributions: every distribution any environment's revisions and snapshots
 * hold, by normalised name and version, with what says where it can go (the Python it was
 * installed with, its wheel tags from `WHEEL`, its site-packages) and which manifest has its
 * files. `<store>/dists-index.json`.
 *
 * The index is a cache of the manifests, never the truth. Writing a revision or a snapshot adds
 * it (indexManifest, from the manifest in hand); each read reconciles the index with the manifest
 * files there (a directory listing and a stat per file; a manifest new or changed since is read,
 * one removed is dropped), so a write that missed it (a crash, a concurrent writer) costs one
 * parse, and a missing or damaged index is rebuilt from the manifests. Written atomically; two writers at once both write
 * a complete index, the last one stays, and the next read reconciles again.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isLink, type Manifest, readManifest } from './manifest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { ObjectStore } from './objects.js';
import { readRevisionFile } from './revisions.js';
import { normalizeName } from '../python/names.js';

export interface IndexedDist {
  name: string;
  version: string;
  distInfo: string;
  /** `py3-none-any`, … from the dist-info's WHEEL file (empty: not known). */
  tags: string[];
  /** sha256 of its METADATA object (the key of its wheel's origin, wheels.ts). */
  metadata?: string;
}

export interface IndexedSource {
  /** The manifest file, relative to the store root. */
  file: string;
  mtimeMs: number;
  size: number;
  kind: 'revision' | 'snapshot';
  /** The environment the manifest is of. */
  env: string;
  /** `X.Y.Z`. */
  python: string;
  sitePackages: string;
  dists: IndexedDist[];
}

interface IndexFile {
  v: 1;
  sources: IndexedSource[];
}

export const distKey = (name: string, version: string) => `${normalizeName(name)}==${version}`;

function indexFile(store: ObjectStore): string {
  return join(store.root, 'dists-index.json');
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every manifest file of the store, relative to its root, with its kind. */
function manifestFiles(store: ObjectStore): Array<{ file: string; kind: IndexedSource['kind'] }> {
  const out: Array<{ file: string; kind: IndexedSource['kind'] }> = [];
  for (const env of listDir(join(store.root, 'revisions')))
    for (const f of listDir(join(store.root, 'revisions', env)))
      if (/^[1-9]\d*\.json$/.test(f)) out.push({ file: `revisions/${env}/${f}`, kind: 'revision' });
  for (const env of listDir(join(store.root, 'snapshots')))
    for (const f of listDir(join(store.root, 'snapshots', env)))
      if (f.endsWith('.json') && !f.startsWith('.'))
        out.push({ file: `snapshots/${env}/${f}`, kind: 'snapshot' });
  return out;
}

/** A manifest file's manifest (a revision file wraps one); throws when it cannot be read. */
export function manifestOfFile(store: ObjectStore, file: string, kind: IndexedSource['kind']): Manifest {
  const abs = join(store.root, file);
  return kind === 'revision' ? readRevisionFile(abs).manifest : readManifest(abs);
}

/** `Tag:` lines of a WHEEL file's text. */
export function wheelTags(text: string): string[] {
  const tags: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^Tag:\s*(\S+)\s*$/i.exec(line);
    if (m) tags.push(m[1]!);
  }
  return tags;
}

function indexDists(
  store: ObjectStore,
  manifest: Manifest,
  wheelTagsBySha: Map<string, string[]>,
): IndexedDist[] {
  return manifest.distributions.map((d) => {
    let tags: string[] = [];
    let metadata: string | undefined;
    for (const f of d.files) {
      if (isLink(f)) continue;
      if (f.path === `${d.distInfo}/WHEEL`) {
        let known = wheelTagsBySha.get(f.sha256);
        if (!known) {
          try {
            known = wheelTags(readFileSync(store.pathOf(f), 'utf8'));
          } catch {
            known = [];
          }
          wheelTagsBySha.set(f.sha256, known);
        }
        tags = known;
      } else if (f.path === `${d.distInfo}/METADATA`) metadata = f.sha256;
    }
    return {
      name: d.name,
      version: d.version,
      distInfo: d.distInfo,
      tags,
      ...(metadata ? { metadata } : {}),
    };
  });
}

function readIndex(store: ObjectStore): IndexedSource[] {
  try {
    const parsed = JSON.parse(readFileSync(indexFile(store), 'utf8')) as IndexFile;
    if (parsed?.v === 1 && Array.isArray(parsed.sources)) return parsed.sources;
  } catch {
    // none yet, or damaged: rebuilt by the next read
  }
  return [];
}

/** The index's entry for one manifest file (`file` relative to the store, as it is on disk: `st`). */
function sourceOf(
  store: ObjectStore,
  file: string,
  kind: IndexedSource['kind'],
  st: { mtimeMs: number; size: number },
  manifest: Manifest,
  wheelTagsBySha: Parameters<typeof indexDists>[2],
): IndexedSource {
  return {
    file,
    mtimeMs: st.mtimeMs,
    size: st.size,
    kind,
    env: manifest.env,
    python: manifest.python,
    sitePackages: manifest.sitePackages,
    dists: indexDists(store, manifest, wheelTagsBySha),
  };
}

/**
 * Add a manifest just written (a revision, a snapshot) to the index, from the manifest in hand, so
 * the next read need not parse it. A cache only: any failure is left to the next read to mend.
 */
export function indexManifest(store: ObjectStore, absFile: string, manifest: Manifest): void {
  try {
    const file = relative(store.root, absFile).split(sep).join('/');
    const kind: IndexedSource['kind'] = file.startsWith('revisions/') ? 'revision' : 'snapshot';
    const st = statSync(absFile);
    const source = sourceOf(store, file, kind, st, manifest, new Map());
    const sources = [...readIndex(store).filter((s) => s.file !== file), source];
    writeFileAtomic(indexFile(store), JSON.stringify({ v: 1, sources } satisfies IndexFile) + '\n');
  } catch {
    // the next read reconciles
  }
}

/**
 * The index, brought up to date with the store's manifests (and written back when it changed).
 * Sources newest first.
 */
export function storedIndex(store: ObjectStore): IndexedSource[] {
  const old = readIndex(store);
  const byFile = new Map(old.map((s) => [s.file, s]));
  const wheelTagsBySha = new Map<string, string[]>();
  const sources: IndexedSource[] = [];
  let changed = false;
  for (const { file, kind } of manifestFiles(store)) {
    let st;
    try {
      st = statSync(join(store.root, file));
    } catch {
      continue; // removed meanwhile
    }
    const had = byFile.get(file);
    if (had && had.mtimeMs === st.mtimeMs && had.size === st.size && Array.isArray(had.dists)) {
      sources.push(had);
      continue;
    }
    changed = true;
    let manifest: Manifest;
    try {
      manifest = manifestOfFile(store, file, kind);
    } catch {
      continue; // a damaged manifest offers nothing
    }
    sources.push(sourceOf(store, file, kind, st, manifest, wheelTagsBySha));
  }
  if (sources.length !== old.length) changed = true;
  if (changed) {
    try {
      writeFileAtomic(indexFile(store), JSON.stringify({ v: 1, sources } satisfies IndexFile) + '\n');
    } catch {
      // a cache: the next read rebuilds what it lacks
    }
  }
  return sources.sort((a, b) => b.mtimeMs - a.mtimeMs);
}
