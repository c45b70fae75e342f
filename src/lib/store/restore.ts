/**
 * Restoring a snapshot by re-linking only what differs, journaled so that kill -9 at any point
 * leaves a change that the next command finishes (or, when the store cannot finish it, undoes).
 *
 * A restore is a list of steps, each making one path of the environment be one state: absent, a
 * store object, or a symbolic link. Every state a step replaces is put into the store first, and
 * the whole list is written to a journal before the first change, so both directions are always
 * possible and re-applying a step is harmless.
 */
import {
  existsSync,
  lstatSync,
  readdirSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { Env } from '../paths.js';
import { crashPoint } from './crash.js';
import { installedDists, installedNames } from './dists.js';
import { normalizeName } from '../python/names.js';
import { InsideEnv, parentError } from './inside.js';
import { entryOf, isLink, type Entry, type Manifest, safeRelPath } from './manifest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { HashCache, hashCachePath } from './hashcache.js';
import { ObjectStore, tempName } from './objects.js';
import { envStateDir, journalPath, readJournalFile, restoringMarkerPath } from './journal-files.js';
import { type LockOptions, type LockOwner, tryWithLock, withLock, withLockAsync } from '../fs/lock.js';
import { distNames, fingerprintOf } from './revisions.js';
import { removeStaleTemps } from './env-temps.js';

export type PathState =
  | { kind: 'absent' }
  /** `size` and `mtimeMs`: the object's seal, when the manifest has it (objects.ts). */
  | { kind: 'file'; sha256: string; mode: number; size?: number; mtimeMs?: number }
  | { kind: 'link'; target: string };

export interface Step {
  path: string;
  before: PathState;
  after: PathState;
}

export interface Journal {
  v: 1;
  op: 'restore';
  env: string;
  startedAt: string;
  steps: Step[];
}

export interface RestoreResult {
  /** Distributions (name version) that were added, removed or changed. */
  added: string[];
  removed: string[];
  /** Paths re-linked or removed. */
  changed: number;
  /** Paths already as the snapshot has them. */
  unchanged: number;
}

export interface StoreOptions {
  env?: Env;
  store?: ObjectStore;
  /** What is restored, for errors: `snapshot NAME`, `revision N` (default: the snapshot). */
  what?: string;
  /**
   * Only these distributions (PEP 503 names) differ from the environment as it is: the others,
   * and the environment's symbolic links, are neither read nor compared (a store-served install
   * touches a few distributions of hundreds).
   */
  only?: ReadonlySet<string>;
}

export { envStateDir, journalPath };

function stateOf(entry: Entry): PathState {
  if (isLink(entry)) return { kind: 'link', target: entry.link };
  const state: PathState = { kind: 'file', sha256: entry.sha256, mode: entry.mode, size: entry.size };
  if (entry.mtimeMs !== undefined) state.mtimeMs = entry.mtimeMs;
  return state;
}

/**
 * Whether `abs` is in `state` now. With `cache` (the environment's hash cache), a file still the
 * very inode state it had when its hash was cached is taken by that hash, unread.
 */
function holds(store: ObjectStore, abs: string, state: PathState, cache?: HashCache, rel?: string): boolean {
  if (state.kind === 'absent') {
    try {
      lstatSync(abs);
      return false;
    } catch {
      return true;
    }
  }
  if (state.kind === 'link') {
    try {
      return lstatSync(abs).isSymbolicLink() && readlinkSync(abs) === state.target;
    } catch {
      return false;
    }
  }
  if (cache && rel !== undefined && !store.sharesInodes()) {
    try {
      const st = lstatSync(abs);
      if (st.isFile() && cache.get(rel, st) === state.sha256 && (st.mode & 0o7777) === state.mode)
        return true;
    } catch {
      return false;
    }
  }
  return store.holds(abs, { sha256: state.sha256, mode: state.mode }, state);
}

/** Whether anything (a file, a link, a directory) is at `abs`. */
function exists(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}

/** The current state of `rel`, its content put into the store so it can be brought back. */
function captureState(store: ObjectStore, root: string, rel: string): PathState {
  const abs = join(root, rel);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    return { kind: 'absent' };
  }
  if (st.isDirectory()) {
    throw new BlastError(`${abs} is a directory where the snapshot has a file; nothing was changed.`);
  }
  const entry = entryOf(store, root, rel);
  return entry ? stateOf(entry) : { kind: 'absent' };
}

/**
 * Make `rel` be `state`; `check` first whether it already is (recovery: part of it may be done).
 * Every directory above `rel` is checked to be a real one first (inside.ts): nothing is ever
 * written or removed through a link, also not one a previous step of a crafted journal made.
 */
function apply(store: ObjectStore, guard: InsideEnv, rel: string, state: PathState, check: boolean): void {
  const abs = guard.check(rel);
  if (check && holds(store, abs, state)) return;
  if (state.kind === 'absent') {
    guard.unlink(rel);
  } else if (state.kind === 'link') {
    guard.mkdirs(dirname(rel));
    const temp = tempName(dirname(abs));
    symlinkSync(state.target, temp);
    renameSync(temp, abs); // replaces a link at `abs` itself, never its target
  } else {
    guard.mkdirs(dirname(rel));
    store.materialize({ sha256: state.sha256, mode: state.mode }, abs);
  }
}

/** Remove the directories that removed paths leave empty, up to (not including) the root's first level. */
function pruneEmptyDirs(guard: InsideEnv, removed: string[]): void {
  const dirs = new Set<string>();
  for (const rel of removed) {
    let d = dirname(rel);
    // Never the env's own skeleton: bin, lib/pythonX.Y/site-packages and its parents.
    while (d !== '.' && d.split('/').length > 1) {
      dirs.add(d);
      d = dirname(d);
    }
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    if (/^lib\d*\/[^/]+(\/site-packages)?$/.test(d)) continue;
    // Only a real, empty directory under real ones goes (never one through a link).
    guard.rmdirIfEmpty(d);
  }
}

/** `dir/__pycache__/<stem>.<tag>[.opt-N].pyc` files of the module `rel` (a `.py`), relative to the root. */
function bytecodeOf(root: string, rel: string): string[] {
  if (!rel.endsWith('.py')) return [];
  const dir = join(dirname(rel), '__pycache__');
  const stem = basename(rel, '.py');
  let names: string[];
  try {
    names = readdirSync(join(root, dir));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(`${stem}.`) && /^[^.]+(\.opt-\d)?\.pyc$/.test(n.slice(stem.length + 1)))
    .map((n) => `${dir}/${n}`);
}

/**
 * Compute the steps that turn the environment into `manifest`. Nothing is written or removed
 * through a symbolic link (see inside.ts): a path the snapshot has under a directory the
 * environment has as a link refuses the whole restore here, before anything changed; a file of
 * what is installed now that lies under such a link (a package directory the user replaced by a
 * link to a checkout) is not the environment's to remove, and stays.
 * Every object a step brings in is checked first (its seal, else its hash): a missing or damaged
 * one refuses the whole restore before anything changed, naming the files and `what` is restored.
 */
export function planRestore(
  store: ObjectStore,
  envPath: string,
  manifest: Manifest,
  what = 'the snapshot',
  cache?: HashCache,
  only?: ReadonlySet<string>,
): Step[] {
  const root = resolve(envPath);
  const guard = new InsideEnv(root);
  const target = new Map<string, PathState>();
  for (const dist of manifest.distributions)
    if (!only || only.has(normalizeName(dist.name)))
      for (const e of dist.files) target.set(e.path, stateOf(e));
  if (!only) for (const l of manifest.symlinks) target.set(l.path, stateOf(l));
  const steps: Step[] = [];
  for (const [rel, after] of target) {
    const abs = join(root, rel);
    // A path under a link refuses the restore, but only where it needs a step.
    const problem = guard.problem(rel);
    const refuse = () => {
      if (problem) throw parentError(problem, 'nothing');
    };
    // Most paths of a rollback are absent (the distributions were uninstalled): under a directory
    // the guard saw missing they are, unread; else one lstat says so. Nothing to compare or capture.
    if (after.kind !== 'absent' && (guard.missingAbove(rel) || !exists(abs))) {
      refuse();
      steps.push({ path: rel, before: { kind: 'absent' }, after });
      continue;
    }
    if (holds(store, abs, after, cache, rel)) continue;
    refuse();
    steps.push({ path: rel, before: captureState(store, root, rel), after });
  }
  // Files of what is installed now that the snapshot does not have: exactly what their RECORDs list.
  const extra = new Set<string>();
  for (const dist of installedDists(root, manifest.sitePackages, undefined, only)) {
    for (const rel of dist.paths) if (!target.has(rel)) extra.add(rel);
  }
  // As pip's uninstall does, the bytecode Python wrote next to a removed module goes with it.
  for (const rel of [...extra]) for (const pyc of bytecodeOf(root, rel)) if (!target.has(pyc)) extra.add(pyc);
  for (const rel of [...extra].sort()) {
    if (guard.problem(rel)) continue; // under a link: outside the environment, never removed
    const before = captureState(store, root, rel);
    if (before.kind !== 'absent') steps.push({ path: rel, before, after: { kind: 'absent' } });
  }
  // Every file state a step brings in must be in the store, intact, before anything changes.
  const damaged: string[] = [];
  const missing: string[] = [];
  for (const s of steps) {
    if (s.after.kind !== 'file') continue;
    const checked = store.verify({ sha256: s.after.sha256, mode: s.after.mode }, s.after);
    if (checked.state === 'damaged' || (checked.state === 'missing' && store.wasQuarantined(s.after)))
      damaged.push(s.path);
    else if (checked.state === 'missing') missing.push(s.path);
  }
  if (damaged.length) {
    throw new BlastError(
      `${capitalized(what)} cannot be restored exactly: the store's copy of ${listed(damaged)} was changed ` +
        `after it was saved (written in place, e.g. by an editor or \`>>\`, or damaged on disk); ` +
        `nothing was changed. The damaged copy was moved to ${store.quarantine}.`,
      ExitCode.failure,
      'Reinstall what it had with `blast load --lock FILE` (a lock from `blast save --lock`) or pip; ' +
        '`blast check --deep` names every snapshot and revision this affects. ' +
        'BLAST_LINK_MODE=copy keeps the store apart from the environments.',
    );
  }
  if (missing.length) {
    throw new BlastError(
      `The store lacks ${listed(missing)} (${what}); nothing was changed.`,
      ExitCode.failure,
      'The snapshot was saved with another store, or its objects were removed.',
    );
  }
  return steps;
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `a, b and 3 more`: the first paths of a list, for an error. */
function listed(paths: string[]): string {
  const shown = paths.slice(0, 3).join(', ');
  return paths.length > 3 ? `${shown} and ${paths.length - 3} more file(s)` : shown;
}

/** Removals first (a new version's file may take an old one's place), then links. */
function run(
  store: ObjectStore,
  root: string,
  steps: Step[],
  direction: 'after' | 'before',
  check = true,
): void {
  const list = direction === 'after' ? steps : steps.map((s) => ({ ...s, after: s.before }));
  const removals = list.filter((s) => s.after.kind === 'absent');
  const links = list.filter((s) => s.after.kind !== 'absent');
  const guard = new InsideEnv(root);
  removals.forEach((s, i) => {
    apply(store, guard, s.path, s.after, check);
    if (i === 0) crashPoint('restore-removing');
  });
  crashPoint('restore-removed');
  links.forEach((s, i) => {
    apply(store, guard, s.path, s.after, check);
    if (i === 0) crashPoint('restore-linking');
  });
  crashPoint('restore-linked');
  pruneEmptyDirs(
    guard,
    removals.map((s) => s.path),
  );
  crashPoint('restore-pruned');
}

function readJournal(file: string): Journal | undefined {
  return readJournalFile<Journal>(
    file,
    'journal',
    (j) => j?.v === 1 && Array.isArray(j.steps) && j.steps.every((s) => safeRelPath(s?.path)),
  );
}

/** The restore journal of the environment, undefined when there is none; a corrupt one throws (clearly). */
export function readRestoreJournal(envPath: string, env: Env | undefined): Journal | undefined {
  return readJournal(journalPath(resolve(envPath), env));
}

function removeJournal(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * How long a change of an environment waits for another one: a pip transaction holds the
 * environment for as long as pip runs (minutes), so this is long, and the wait is visible (a
 * "waiting for pid N (pip install x)" line); a restore or a revision takes milliseconds.
 */
export const ENV_LOCK_WAIT_MS = 10 * 60_000;

/** What RESTORING_MARKER holds: the state a restore brings the environment to. */
export interface RestoringMarker {
  v: 1;
  env: string;
  /** fingerprintOf the target manifest: finds the revision or snapshot to restore again. */
  target: string;
  /** Its distributions (`name version`), for the message. */
  distributions: string[];
  startedAt: string;
}

/**
 * Written after the journal: a marker is never without a journal while its restore runs. Written
 * in place, not through a temporary file (that would be one more thing a kill -9 leaves in the
 * environment): it is its existence that counts; a torn one still says "half-restored", and the
 * repair then falls back to the latest revision.
 */
function writeMarker(root: string, manifest: Manifest): void {
  const marker: RestoringMarker = {
    v: 1,
    env: root,
    target: fingerprintOf(manifest),
    distributions: distNames(manifest),
    startedAt: new Date().toISOString(),
  };
  writeFileSync(restoringMarkerPath(root), JSON.stringify(marker) + '\n');
}

/**
 * The restore is done (or undone): the marker goes, then the journal (a crash between leaves a
 * journal without a marker, which the next command re-runs harmlessly; never the other way).
 */
function finish(root: string, journal: string): void {
  removeJournal(restoringMarkerPath(root));
  removeJournal(journal);
}

/**
 * Who holds an environment: `pip` (a transaction) and `load` (a snapshot, a revision or a lock
 * being brought back) record their own revision when they are done, so the daemon's `blast
 * record` skips instead of waiting (see recordCurrent); `save` reads it.
 */
export type EnvLockKind = 'pip' | 'load' | 'save';

export interface EnvLockOptions {
  /** What the holder does, for whoever waits (default: the Blast command line). */
  what?: string;
  kind?: EnvLockKind;
  /** Give up at once when this owner holds it (tryWithEnvLock). */
  yieldTo?: (owner: LockOwner) => boolean;
}

/** The environment's lock, in its state dir. */
export function envLockFile(envPath: string, env: Env | undefined): string {
  return join(envStateDir(envPath, env), 'restore.lock');
}

/** `blast load sA`: what this process is, for a lock's waiters. */
export function commandLine(): string {
  const line = ['blast', ...process.argv.slice(2)].join(' ');
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

function envLockOptions(envPath: string, options: EnvLockOptions): LockOptions {
  return {
    what: options.what ?? commandLine(),
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.yieldTo ? { yieldTo: options.yieldTo } : {}),
    waitMs: ENV_LOCK_WAIT_MS,
    onWait: (owner) =>
      process.stderr.write(
        `blast: waiting for pid ${owner.pid} (${owner.what || 'a Blast process'}) to finish with ${envPath}...\n`,
      ),
    busy: (owner) =>
      new BlastError(
        `Another Blast process (pid ${owner.pid}, ${owner.what || 'unknown'}) has been changing ${envPath} for more than ${ENV_LOCK_WAIT_MS / 60_000} minutes.`,
        ExitCode.failure,
        `Wait for it to finish, then try again; if pid ${owner.pid} is stuck, stop it: the environment is then taken over and recovered.`,
      ),
  };
}

/**
 * One change at a time per environment: a pip transaction (its whole life), `blast load`,
 * `blast save`, recording a revision and recovering one exclude each other. A lock whose owner
 * died (kill -9) is taken over at once; a section nested in this process's own holding (a restore
 * inside a transaction) runs at once.
 */
export function withEnvLock<T>(
  envPath: string,
  env: Env | undefined,
  fn: () => T,
  options: EnvLockOptions = {},
): T {
  return withLock(envLockFile(envPath, env), fn, envLockOptions(envPath, options));
}

/** As withEnvLock, `{owner}` without running `fn` when `options.yieldTo` the holder. */
export function tryWithEnvLock<T>(
  envPath: string,
  env: Env | undefined,
  fn: () => T,
  options: EnvLockOptions,
): { value: T } | { owner: LockOwner } {
  return tryWithLock(envLockFile(envPath, env), fn, envLockOptions(envPath, options));
}

/** As withEnvLock for an async section (a transaction, a load, a save). */
export function withEnvLockAsync<T>(
  envPath: string,
  env: Env | undefined,
  fn: () => Promise<T>,
  options: EnvLockOptions = {},
): Promise<T> {
  return withLockAsync(envLockFile(envPath, env), fn, envLockOptions(envPath, options));
}

/**
 * Finish an interrupted restore of the environment when the store has everything it needs (it
 * always has, unless objects were removed by hand), else undo it. Either way the environment ends
 * exactly in the old or the new state and the journal is gone. The caller holds the env lock
 * (recover.ts's recoverEnv is the public entry, which also recovers pip transactions).
 */
export function recoverRestore(
  envPath: string,
  options: StoreOptions,
): { outcome: 'none' | 'finished' | 'undone'; steps: number } {
  const store = options.store ?? ObjectStore.of(options.env);
  const root = resolve(envPath);
  const file = journalPath(root, options.env);
  const journal = readJournal(file);
  if (!journal) return { outcome: 'none', steps: 0 };
  const forward = journal.steps.every(
    (s) =>
      s.after.kind !== 'file' ||
      store.verify({ sha256: s.after.sha256, mode: s.after.mode }, s.after).state === 'ok',
  );
  run(store, root, journal.steps, forward ? 'after' : 'before');
  removeStaleTemps(root, journal.steps);
  finish(root, file);
  return { outcome: forward ? 'finished' : 'undone', steps: journal.steps.length };
}

/**
 * After a restore whose journal was lost: files that another known state of the environment (its
 * snapshots, its revisions) has and `target` lacks, still holding exactly that state's content,
 * are what the lost restore linked in (or had not removed yet): removed, and the directories they
 * leave empty. A file no known state has, or whose content differs, is left alone. Returns how
 * many went.
 */
export function removeKnownExtras(
  store: ObjectStore,
  envPath: string,
  target: Manifest,
  known: readonly Manifest[],
): number {
  const root = resolve(envPath);
  const guard = new InsideEnv(root);
  const keep = new Set(
    [...target.distributions.flatMap((d) => d.files), ...target.symlinks].map((e) => e.path),
  );
  const removed = new Set<string>();
  for (const manifest of known)
    for (const entry of manifest.distributions.flatMap((d) => d.files)) {
      if (keep.has(entry.path) || removed.has(entry.path)) continue;
      // Never through a link: a file reached through one is not this environment's to remove.
      if (guard.problem(entry.path)) continue;
      if (!holds(store, join(root, entry.path), stateOf(entry))) continue;
      apply(store, guard, entry.path, { kind: 'absent' }, false);
      removed.add(entry.path);
    }
  pruneEmptyDirs(guard, [...removed]);
  return removed.size;
}

/** Make the environment's distributions exactly the manifest's, re-linking only what differs. */
export function restoreEnv(envPath: string, manifest: Manifest, options: StoreOptions = {}): RestoreResult {
  return withEnvLock(resolve(envPath), options.env, () => restoreUnlocked(envPath, manifest, options));
}

export function restoreUnlocked(envPath: string, manifest: Manifest, options: StoreOptions): RestoreResult {
  const store = options.store ?? ObjectStore.of(options.env);
  const root = resolve(envPath);
  if (!existsSync(join(root, 'pyvenv.cfg'))) {
    throw new BlastError(`${root} is not a virtual environment.`, ExitCode.notFound);
  }
  if (resolve(manifest.env) !== root) {
    throw new BlastError(
      `The snapshot is of ${manifest.env}, not of ${root}; nothing was changed.`,
      ExitCode.usage,
      "Console scripts name their own environment's python, so a snapshot restores only into its environment.",
    );
  }
  recoverRestore(root, { ...options, store });
  const before = installedNames(root, manifest.sitePackages).map((d) => `${d.name} ${d.version}`);
  const cache = new HashCache(hashCachePath(root, options.env));
  const steps = planRestore(store, root, manifest, options.what, cache, options.only);
  // Where this restore writes is where a killed one would have left its temporary names.
  removeStaleTemps(root, steps);
  const now = manifest.distributions.map((d) => `${d.name} ${d.version}`);
  const result: RestoreResult = {
    added: now.filter((d) => !before.includes(d)),
    removed: before.filter((d) => !now.includes(d)),
    changed: steps.length,
    unchanged:
      manifest.distributions.reduce((n, d) => n + d.files.length, 0) +
      manifest.symlinks.length -
      steps.filter((s) => s.after.kind !== 'absent').length,
  };
  const file = journalPath(root, options.env);
  // Already exactly the manifest: a marker a killed restore left (its journal gone) is void now.
  if (steps.length === 0) {
    finish(root, file);
    return result;
  }
  crashPoint('restore-planned');
  const journal: Journal = { v: 1, op: 'restore', env: root, startedAt: new Date().toISOString(), steps };
  writeFileAtomic(file, JSON.stringify(journal) + '\n', { step: 'restore-journal-temp' });
  writeMarker(root, manifest);
  crashPoint('restore-journaled');
  try {
    // Just planned: every step is known to be needed, so none is checked again.
    run(store, root, steps, 'after', false);
  } catch (error) {
    // Put back what was there; the journal stays if even that fails, for the next command.
    run(store, root, steps, 'before');
    finish(root, file);
    throw error;
  }
  finish(root, file);
  if (!store.sharesInodes()) {
    // Clones and copies are not the store's inodes: their hashes are cached, so the next restore
    // or snapshot does not read them again.
    for (const s of steps) {
      if (s.after.kind !== 'file') continue;
      try {
        cache.set(s.path, lstatSync(join(root, s.path)), s.after.sha256);
      } catch {
        // gone meanwhile
      }
    }
    cache.save(false);
  } else {
    // Each changed path is now the store's inode (found by its seal) or gone: a row the cache
    // kept for it would only be parsed, never used, by every later snapshot and rollback.
    cache.forget(steps.map((s) => s.path));
    cache.save(false);
  }
  return result;
}

export const CRASH_STEPS = [
  'restore-planned',
  'restore-journal-temp',
  'restore-journaled',
  'restore-removing',
  'restore-removed',
  'restore-linking',
  // objects.ts's materialize: a file linked under its temporary name, not yet renamed over the old one.
  'restore-temp-linked',
  'restore-linked',
  'restore-pruned',
] as const;
