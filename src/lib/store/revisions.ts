/**
 * Revisions: every settled change of an environment's distributions, numbered 1, 2, 3… per
 * environment and kept as a manifest under `<store>/revisions/<env-hash>/<N>.json`, beside an
 * index (`index.json`) of their summaries so the history is read without parsing every manifest.
 *
 * The CLI (transactions, load, history) and the daemon's watcher (through `blast record`) may
 * record at the same time: numbering and the index are changed only under `revisions.lock`.
 * A revision is not recorded when its distributions are identical, file for file, to the latest's.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { envHash, isLink, type Manifest, manifestProblem } from './manifest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { normalizeName } from '../python/names.js';
import type { ObjectStore } from './objects.js';
import { withLock } from '../fs/lock.js';
import { indexManifest } from './dist-index.js';

/** Where a revision came from. */
export type RevisionSource =
  /** A `blast pip` transaction (the shim): `args` are pip's. */
  | 'pip'
  /** Seen by the daemon's watcher (pip run around the shim: `python -m pip`, `uv pip`, …). */
  | 'watch'
  /** Found when Blast next looked (a change made while nothing watched). */
  | 'outside'
  /** `blast load` of a snapshot or of a revision. */
  | 'load'
  /** `blast load --lock`. */
  | 'lock'
  /** `blast record` without --source. */
  | 'record'
  /** The environment as Blast created it (revision 1). */
  | 'created'
  /** A venv made by another tool as Blast found it when it took it in (revision 1). */
  | 'adopted';

export const REVISION_SOURCES: readonly RevisionSource[] = [
  'pip',
  'watch',
  'outside',
  'load',
  'lock',
  'record',
  'created',
  'adopted',
];

export interface RevisionChange {
  added: string[];
  removed: string[];
  /** `name old -> new`. */
  upgraded: string[];
}

/** What the index keeps of a revision (the manifest itself is `<n>.json`). */
export interface RevisionSummary {
  n: number;
  createdAt: string;
  source: RevisionSource;
  /** pip's arguments (source pip), the snapshot name or `revision N` (source load), a lock file… */
  detail?: string;
  /** `name version` of every distribution. */
  distributions: string[];
  /** Against the revision before it. */
  change: RevisionChange;
  /** SHA-256 of the distributions' files: equal fingerprints, equal distributions. */
  fingerprint: string;
  /**
   * Bytes of the distributions' files, for `blast list` without walking the tree (absent from
   * revisions recorded before it was kept).
   */
  bytes?: number;
}

export interface Revision extends RevisionSummary {
  manifest: Manifest;
}

export function revisionsDir(store: ObjectStore, envPath: string): string {
  return join(store.root, 'revisions', envHash(envPath));
}

/** Bytes of a manifest's distributions' files, each path counted once. */
export function bytesOf(manifest: Manifest): number {
  const sizes = new Map<string, number>();
  for (const d of manifest.distributions) for (const f of d.files) if (!isLink(f)) sizes.set(f.path, f.size);
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}

/** Identity of a manifest's distributions: names, versions and every file's path, content, mode or link. */
export function fingerprintOf(manifest: Manifest): string {
  const hash = createHash('sha256');
  const dists = [...manifest.distributions].sort((a, b) => (a.distInfo < b.distInfo ? -1 : 1));
  for (const d of dists) {
    hash.update(`D\0${d.name}\0${d.version}\0${d.distInfo}\n`);
    const files = [...d.files].sort((a, b) => (a.path < b.path ? -1 : 1));
    for (const f of files)
      hash.update(isLink(f) ? `L\0${f.path}\0${f.link}\n` : `F\0${f.path}\0${f.sha256}\0${f.mode}\n`);
  }
  return hash.digest('hex');
}

export function distNames(manifest: Manifest): string[] {
  return manifest.distributions.map((d) => `${d.name} ${d.version}`).sort();
}

const keyOfDist = (d: string) => normalizeName(d.slice(0, d.lastIndexOf(' ')));

/** The change from one list of `name version` to another. */
export function changeOf(before: readonly string[], after: readonly string[]): RevisionChange {
  const was = new Map(before.map((d) => [keyOfDist(d), d]));
  const now = new Map(after.map((d) => [keyOfDist(d), d]));
  const change: RevisionChange = { added: [], removed: [], upgraded: [] };
  for (const [k, d] of now) {
    const old = was.get(k);
    if (old === undefined) change.added.push(d);
    else if (old !== d) change.upgraded.push(`${old} -> ${d.slice(d.lastIndexOf(' ') + 1)}`);
  }
  for (const [k, d] of was) if (!now.has(k)) change.removed.push(d);
  for (const list of Object.values(change)) (list as string[]).sort();
  return change;
}

/** `+a 1.0, -b 2, c 1 -> 2` (or `no distribution changed`). */
export function describeChange(change: RevisionChange): string {
  const parts = [
    ...change.added.map((d) => `+${d}`),
    ...change.removed.map((d) => `-${d}`),
    ...change.upgraded.map((u) => `~${u}`),
  ];
  return parts.length ? parts.join(', ') : 'files changed, same versions';
}

// The lock: recording is short, so a live owner is waited for; a dead one's lock is taken over.

export function withRevisionsLock<T>(dir: string, fn: () => T, waitMs = 15_000): T {
  const lock = join(dir, 'revisions.lock');
  return withLock(lock, fn, {
    what: 'recording a revision',
    waitMs,
    busy: (owner) =>
      new BlastError(
        `Another Blast process (pid ${owner.pid}, ${owner.what || 'unknown'}) has held ${lock} for ${Math.round(waitMs / 1000)} s.`,
        ExitCode.failure,
        'Try again when it has finished.',
      ),
  });
}

function readdirSafe(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The index.

interface IndexFile {
  v: 1;
  revisions: RevisionSummary[];
}

function validSummary(s: unknown): s is RevisionSummary {
  if (!s || typeof s !== 'object') return false;
  const o = s as Record<string, unknown>;
  return (
    Number.isInteger(o.n) &&
    (o.n as number) > 0 &&
    typeof o.createdAt === 'string' &&
    typeof o.source === 'string' &&
    Array.isArray(o.distributions) &&
    typeof o.fingerprint === 'string' &&
    !!o.change &&
    typeof o.change === 'object'
  );
}

/** The revision files present: `<n>.json`. */
function revisionNumbers(dir: string): number[] {
  return (readdirSafe(dir) ?? [])
    .map((f) => /^([1-9]\d*)\.json$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function parseRevision(text: string, file: string): Revision {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BlastError(`The revision ${file} is corrupt: ${messageOf(error)}.`, ExitCode.failure);
  }
  if (!validSummary(parsed)) throw new BlastError(`The revision ${file} is corrupt.`, ExitCode.failure);
  const problem = manifestProblem((parsed as { manifest?: unknown }).manifest);
  if (problem) throw new BlastError(`The revision ${file} is corrupt: ${problem}.`, ExitCode.failure);
  return parsed as Revision;
}

export function readRevisionFile(file: string): Revision {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BlastError(`Cannot read the revision ${file}: ${messageOf(error)}`, ExitCode.failure);
  }
  return parseRevision(text, file);
}

function summaryOf(r: Revision): RevisionSummary {
  const { manifest: _manifest, ...summary } = r;
  return summary;
}

/**
 * The summaries, oldest first: the index, reconciled with the files there (a crash may come
 * between writing a revision and its index entry, or between removing one and the index).
 */
export function listRevisions(
  store: ObjectStore,
  envPath: string,
  dir = revisionsDir(store, envPath),
): RevisionSummary[] {
  const present = revisionNumbers(dir);
  if (present.length === 0) return [];
  let indexed: RevisionSummary[] = [];
  try {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as IndexFile;
    if (index?.v === 1 && Array.isArray(index.revisions)) indexed = index.revisions.filter(validSummary);
  } catch {
    // missing or damaged: rebuilt from the files below
  }
  const byN = new Map(indexed.map((s) => [s.n, s]));
  const out: RevisionSummary[] = [];
  for (const n of present) {
    const known = byN.get(n);
    if (known) out.push(known);
    else {
      try {
        out.push(summaryOf(readRevisionFile(join(dir, `${n}.json`))));
      } catch {
        // a damaged revision is left out of the history
      }
    }
  }
  return out;
}

export function readRevision(store: ObjectStore, envPath: string, n: number): Revision {
  const dir = revisionsDir(store, envPath);
  const numbers = revisionNumbers(dir);
  if (!numbers.includes(n)) {
    const contiguous = numbers.length > 0 && numbers.at(-1)! - numbers[0]! === numbers.length - 1;
    const range =
      numbers.length === 0
        ? 'it has no revisions yet'
        : numbers.length === 1
          ? `its only revision is ${numbers[0]}`
          : contiguous
            ? `its revisions are ${numbers[0]} to ${numbers.at(-1)}`
            : `its revisions are ${numbers.length > 12 ? `${numbers.slice(0, 3).join(', ')}, …, ${numbers.slice(-8).join(', ')}` : numbers.join(', ')} (older ones were removed by \`blast clean\`)`;
    throw new BlastError(
      `There is no revision ${n} of ${envPath}: ${range}.`,
      ExitCode.notFound,
      'See `blast history`.',
    );
  }
  return readRevisionFile(join(dir, `${n}.json`));
}

export function latestRevision(store: ObjectStore, envPath: string): RevisionSummary | undefined {
  return listRevisions(store, envPath).at(-1);
}

function writeIndex(dir: string, revisions: RevisionSummary[]): void {
  const index: IndexFile = { v: 1, revisions };
  writeFileAtomic(join(dir, 'index.json'), JSON.stringify(index) + '\n');
}

/**
 * The bytes of revision `n`, for a revision recorded before summaries kept them: read from its
 * manifest once, and written into the index (under the lock, best effort: a busy lock or a full
 * disk only means the next reader reads the manifest again), so later readers find it there.
 */
export function backfillBytes(store: ObjectStore, envPath: string, n: number): number | undefined {
  let bytes: number;
  try {
    bytes = bytesOf(readRevision(store, envPath, n).manifest);
  } catch {
    return undefined;
  }
  const dir = revisionsDir(store, envPath);
  try {
    withRevisionsLock(
      dir,
      () => {
        const all = listRevisions(store, envPath, dir);
        const entry = all.find((s) => s.n === n);
        if (!entry || entry.bytes !== undefined) return;
        entry.bytes = bytes;
        writeIndex(dir, all);
      },
      0,
    );
  } catch {
    // not kept this time; the value is right either way
  }
  return bytes;
}

export interface RecordOptions {
  source: RevisionSource;
  detail?: string;
}

/**
 * Record `manifest` (whose objects are in the store) as the environment's next revision, unless
 * its distributions are identical to the latest revision's. Returns the new revision's summary,
 * or undefined when nothing was recorded.
 */
export function recordRevision(
  store: ObjectStore,
  envPath: string,
  manifest: Manifest,
  options: RecordOptions,
): RevisionSummary | undefined {
  const dir = revisionsDir(store, envPath);
  const fingerprint = fingerprintOf(manifest);
  return withRevisionsLock(dir, () => {
    const all = listRevisions(store, envPath);
    const latest = all.at(-1);
    if (latest?.fingerprint === fingerprint) return undefined;
    const distributions = distNames(manifest);
    const summary: RevisionSummary = {
      n: (latest?.n ?? 0) + 1,
      createdAt: new Date().toISOString(),
      source: options.source,
      ...(options.detail !== undefined ? { detail: options.detail } : {}),
      distributions,
      change: changeOf(latest?.distributions ?? [], distributions),
      fingerprint,
      bytes: bytesOf(manifest),
    };
    const revision: Revision = { ...summary, manifest };
    writeFileAtomic(join(dir, `${summary.n}.json`), JSON.stringify(revision) + '\n', {
      step: 'revision-temp',
    });
    writeIndex(dir, [...all, summary]);
    indexManifest(store, join(dir, `${summary.n}.json`), manifest);
    return summary;
  });
}

/** Which revisions retention removes: all but the newest `keep` (at least 1) and the pinned ones. */
export function revisionsToPrune(
  all: readonly RevisionSummary[],
  keep: number,
  pinned: ReadonlySet<number> = new Set(),
): number[] {
  const kept = Math.max(1, keep);
  return all
    .slice(0, Math.max(0, all.length - kept))
    .map((s) => s.n)
    .filter((n) => !pinned.has(n));
}
