/**
 * Garbage collection of the store (`blast clean`): old revisions first (retention), then the
 * objects that no snapshot, no kept revision and no journal (an interrupted change that the next
 * command finishes or undoes) refers to, and what killed processes left (temporary files).
 *
 * Retention: the newest `keep` revisions of each environment are kept (default 50; the
 * BLAST_KEEP_REVISIONS variable or `blast clean --keep-revisions N`), and every revision whose
 * distributions a snapshot of the same environment has (it is pinned by the snapshot).
 *
 * The history of an environment whose folder is gone is *orphaned*, and kept: a folder removed
 * with `rm -rf` looks exactly like one on a disk that is not mounted, or one being moved back.
 * Only `blast clean --orphaned-history` removes it (and `blast clean NAME --yes` removes an
 * environment's history with it). An environment whose folder is there but looks broken (no
 * pyvenv.cfg) keeps all its history: it is what a repair needs. Snapshots are never removed
 * (they are named by the user).
 *
 * An object is removed only when it is older than a grace period (ctime, which a hard link into
 * the store sets: 10 minutes, BLAST_STORE_GC_GRACE_S), so the objects of a `blast save` or a
 * transaction still writing its manifest are never taken.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../paths.js';
import { stateDir } from '../paths.js';
import { isLink, type Manifest, manifestProblem, readManifest } from './manifest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { keyOf, type ObjectStore } from './objects.js';
import {
  fingerprintOf,
  listRevisions,
  readRevisionFile,
  revisionsToPrune,
  withRevisionsLock,
} from './revisions.js';
import { alive } from '../fs/alive.js';

export const DEFAULT_KEEP_REVISIONS = 50;
const DEFAULT_GRACE_S = 600;

/** How many revisions per environment retention keeps: `keep`, else BLAST_KEEP_REVISIONS, else 50. */
export function keepRevisions(env: Env, keep?: number): number {
  if (keep !== undefined) return keep;
  const fromEnv = Number(env.BLAST_KEEP_REVISIONS);
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : DEFAULT_KEEP_REVISIONS;
}

function graceMs(env: Env): number {
  const s = Number(env.BLAST_STORE_GC_GRACE_S);
  return (Number.isFinite(s) && s >= 0 ? s : DEFAULT_GRACE_S) * 1000;
}

export interface RevisionPrune {
  /** The environment's path (from its newest revision), and its revisions dir. */
  env: string;
  dir: string;
  numbers: number[];
  /** The environment is gone: the whole dir goes. */
  envGone: boolean;
}

export interface GcOptions {
  /** Revisions kept per environment (see keepRevisions). */
  keep?: number;
  /** Also remove the history of environments whose folder is gone (else only reported). */
  orphanedHistory?: boolean;
}

export interface StoreGc {
  prunes: RevisionPrune[];
  /** The history of environments whose folder is gone, kept (unless `orphanedHistory`: then in prunes). */
  orphans: RevisionPrune[];
  /** Unreferenced objects: path and size. */
  objects: Array<{ path: string; bytes: number }>;
  /** Temporary files of processes that died (objects, manifests, revisions). */
  temps: string[];
  /** Sum of the objects' sizes before, and after removing `objects`. */
  storeBytes: number;
  keep: number;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function addManifest(refs: Set<string>, m: Manifest): void {
  for (const d of m.distributions) for (const f of d.files) if (!isLink(f)) refs.add(keyOf(f));
}

/** Objects a journal of an interrupted change needs (both directions of a restore, a transaction's before). */
function journalRefs(env: Env, refs: Set<string>): void {
  const envs = join(stateDir(env), 'envs');
  for (const hash of listDir(envs)) {
    const dir = join(envs, hash);
    try {
      const j = JSON.parse(readFileSync(join(dir, 'restore.journal.json'), 'utf8')) as {
        steps?: Array<{ before?: { kind: string; sha256: string; mode: number }; after?: typeof j.steps }>;
      };
      for (const s of (j.steps ?? []) as Array<
        Record<string, { kind: string; sha256: string; mode: number }>
      >)
        for (const state of [s.before, s.after]) if (state?.kind === 'file') refs.add(keyOf(state));
    } catch {
      // none
    }
    try {
      const before = JSON.parse(readFileSync(join(dir, 'transaction.before.json'), 'utf8')) as {
        manifest?: unknown;
      };
      if (!manifestProblem(before.manifest)) addManifest(refs, before.manifest as Manifest);
    } catch {
      // none
    }
  }
}

/** Whether `path` is missing entirely (not: there but unreadable, or there without pyvenv.cfg). */
function folderGone(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The history of every environment whose folder is gone (see the module comment: kept unless asked). */
export function orphanedHistory(store: ObjectStore): RevisionPrune[] {
  return planPrunes(store, Number.MAX_SAFE_INTEGER).orphans;
}

/** Which revisions retention removes, and which environments' whole history is orphaned. */
function planPrunes(store: ObjectStore, keep: number): { prunes: RevisionPrune[]; orphans: RevisionPrune[] } {
  const out: RevisionPrune[] = [];
  const orphans: RevisionPrune[] = [];
  const root = join(store.root, 'revisions');
  for (const hash of listDir(root)) {
    const dir = join(root, hash);
    const all = listRevisionsIn(store, dir);
    if (all.length === 0) continue;
    let envPath = '';
    try {
      envPath = readRevisionFile(join(dir, `${all.at(-1)!.n}.json`)).manifest.env;
    } catch {
      continue; // unreadable: left alone
    }
    if (folderGone(envPath)) {
      orphans.push({ env: envPath, dir, numbers: all.map((s) => s.n), envGone: true });
      continue;
    }
    // There but broken (pyvenv.cfg missing, a half-done change): its history is what a repair
    // needs, so none of it goes, not even beyond retention.
    if (!existsSync(join(envPath, 'pyvenv.cfg'))) continue;
    const snapshots = new Set<string>();
    const snapDir = join(store.root, 'snapshots', hash);
    for (const f of listDir(snapDir)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      try {
        snapshots.add(fingerprintOf(readManifest(join(snapDir, f))));
      } catch {
        // a corrupt snapshot pins nothing
      }
    }
    const pinned = new Set(all.filter((s) => snapshots.has(s.fingerprint)).map((s) => s.n));
    const numbers = revisionsToPrune(all, keep, pinned);
    if (numbers.length > 0) out.push({ env: envPath, dir, numbers, envGone: false });
  }
  return { prunes: out, orphans };
}

/** listRevisions wants an environment path; the dir is what GC has. */
function listRevisionsIn(store: ObjectStore, dir: string) {
  return listRevisions(store, '', dir);
}

/** Every object the store must keep, as `keyOf` keys, assuming `prunes` are done. */
export function referencedObjects(store: ObjectStore, env: Env, prunes: RevisionPrune[] = []): Set<string> {
  const refs = new Set<string>();
  const snapshots = join(store.root, 'snapshots');
  for (const hash of listDir(snapshots))
    for (const f of listDir(join(snapshots, hash))) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      try {
        addManifest(refs, readManifest(join(snapshots, hash, f)));
      } catch {
        // A corrupt snapshot cannot be loaded anyway.
      }
    }
  const gone = new Map(prunes.map((p) => [p.dir, new Set(p.numbers)]));
  const revisions = join(store.root, 'revisions');
  for (const hash of listDir(revisions)) {
    const dir = join(revisions, hash);
    for (const f of listDir(dir)) {
      const n = /^([1-9]\d*)\.json$/.exec(f)?.[1];
      if (!n || gone.get(dir)?.has(Number(n))) continue;
      try {
        addManifest(refs, readRevisionFile(join(dir, f)).manifest);
      } catch {
        // A damaged revision is not in the history.
      }
    }
  }
  journalRefs(env, refs);
  return refs;
}

interface ObjectFile {
  path: string;
  key: string;
  bytes: number;
  ctimeMs: number;
}

function objectFiles(store: ObjectStore): ObjectFile[] {
  const out: ObjectFile[] = [];
  for (const d of listDir(store.objects)) {
    const dir = join(store.objects, d);
    for (const name of listDir(dir)) {
      if (name.startsWith('.')) continue; // temporaries: see staleTemps
      try {
        const st = lstatSync(join(dir, name));
        if (st.isFile()) out.push({ path: join(dir, name), key: name, bytes: st.size, ctimeMs: st.ctimeMs });
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

/** `.<pid>-<ms>.tmp` files writeFileAtomic left in manifest directories when killed. */
function staleManifestTemps(store: ObjectStore): string[] {
  const out: string[] = [];
  for (const top of ['snapshots', 'revisions'])
    for (const hash of listDir(join(store.root, top)))
      for (const f of listDir(join(store.root, top, hash))) {
        const m = /^\.(\d+)-\d+\.tmp$/.exec(f);
        if (m && !alive(Number(m[1]))) out.push(join(store.root, top, hash, f));
      }
  return out;
}

/**
 * What a killed `blast push` or `blast pull` left in `<store>/oci/` (see oci/local.ts): layers
 * being packed and blobs being fetched in `tmp/`, and known.json's write temps. The verified blobs
 * in `blobs/` stay: the next pull of that artifact goes on from them.
 */
function staleOciTemps(store: ObjectStore): string[] {
  const out: string[] = [];
  const oci = join(store.root, 'oci');
  for (const f of listDir(join(oci, 'tmp'))) {
    const m = /^\.tmp-(\d+)-/.exec(f);
    if (m && !alive(Number(m[1]))) out.push(join(oci, 'tmp', f));
  }
  for (const f of listDir(oci)) {
    const m = /^\.(\d+)-\d+\.tmp$/.exec(f);
    if (m && !alive(Number(m[1]))) out.push(join(oci, f));
  }
  return out;
}

/** What `blast clean` would remove from the store (nothing is removed here). */
export function planStoreGc(store: ObjectStore, env: Env, options: GcOptions = {}): StoreGc {
  const kept = keepRevisions(env, options.keep);
  const planned = planPrunes(store, kept);
  const prunes = options.orphanedHistory ? [...planned.prunes, ...planned.orphans] : planned.prunes;
  const refs = referencedObjects(store, env, prunes);
  const files = objectFiles(store);
  const cutoff = Date.now() - graceMs(env);
  const objects = files
    .filter((f) => !refs.has(f.key) && f.ctimeMs <= cutoff)
    .map((f) => ({ path: f.path, bytes: f.bytes }));
  return {
    prunes,
    orphans: options.orphanedHistory ? [] : planned.orphans,
    objects,
    temps: [...store.staleTemps(true), ...staleManifestTemps(store), ...staleOciTemps(store)],
    storeBytes: files.reduce((n, f) => n + f.bytes, 0),
    keep: kept,
  };
}

/** Remove the planned revisions (under the revisions lock, which the CLI and daemon share). */
export function pruneRevisionDir(prune: RevisionPrune): void {
  withRevisionsLock(prune.dir, () => {
    const indexFile = join(prune.dir, 'index.json');
    if (!prune.envGone) {
      // Drop them from the index first: a crash then leaves files the index no longer lists,
      // which listRevisions puts back; never an index entry without its file.
      const gone = new Set(prune.numbers);
      try {
        const index = JSON.parse(readFileSync(indexFile, 'utf8')) as {
          v: 1;
          revisions: Array<{ n: number }>;
        };
        index.revisions = index.revisions.filter((s) => !gone.has(s.n));
        writeIndexFile(indexFile, index);
      } catch {
        // no index: the files are all there is
      }
    }
    for (const n of prune.numbers) rmSync(join(prune.dir, `${n}.json`), { force: true });
    if (prune.envGone) rmSync(indexFile, { force: true });
  });
  if (prune.envGone && listDir(prune.dir).length === 0) rmSync(prune.dir, { recursive: true, force: true });
}

function writeIndexFile(file: string, index: unknown): void {
  writeFileAtomic(file, JSON.stringify(index) + '\n');
}

/**
 * Remove the planned objects that are still unreferenced now (a snapshot saved since the plan
 * keeps its objects). Returns the bytes of what was removed.
 */
export function removeObjects(store: ObjectStore, env: Env, planned: StoreGc['objects']): number {
  const refs = referencedObjects(store, env);
  let freed = 0;
  for (const o of planned) {
    const key = o.path.slice(o.path.lastIndexOf('/') + 1);
    if (refs.has(key)) continue;
    try {
      const st = statSync(o.path);
      unlinkSync(o.path);
      freed += st.size;
    } catch {
      // gone meanwhile
    }
  }
  return freed;
}

export function removeTemps(paths: readonly string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}
