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
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BlastError, ExitCode } from '../errors.js';
import type { Env } from '../paths.js';
import { crashPoint } from './crash.js';
import { installedDists } from './dists.js';
import { entryOf, isLink, type Entry, type Manifest, safeRelPath, writeFileAtomic } from './manifest.js';
import { ObjectStore, tempName } from './objects.js';
import { envStateDir, journalPath, readJournalFile, restoringMarkerPath } from './journal-files.js';
import { distNames, fingerprintOf } from './revisions.js';
import { removeStaleTemps } from './env-temps.js';
import { withPidLock } from './pid-lock.js';

export type PathState =
  { kind: 'absent' } | { kind: 'file'; sha256: string; mode: number } | { kind: 'link'; target: string };

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
}

export { envStateDir, journalPath };

function stateOf(entry: Entry): PathState {
  return isLink(entry)
    ? { kind: 'link', target: entry.link }
    : { kind: 'file', sha256: entry.sha256, mode: entry.mode };
}

/** Whether `abs` is in `state` now. */
function holds(store: ObjectStore, abs: string, state: PathState): boolean {
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
  return store.holds(abs, { sha256: state.sha256, mode: state.mode });
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

/** Make `abs` be `state`; `check` first whether it already is (recovery: part of it may be done). */
function apply(store: ObjectStore, abs: string, state: PathState, check: boolean): void {
  if (check && holds(store, abs, state)) return;
  if (state.kind === 'absent') {
    try {
      unlinkSync(abs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  } else if (state.kind === 'link') {
    mkdirSync(dirname(abs), { recursive: true });
    const temp = tempName(dirname(abs));
    symlinkSync(state.target, temp);
    renameSync(temp, abs);
  } else {
    store.materialize({ sha256: state.sha256, mode: state.mode }, abs);
  }
}

/** Remove the directories that removed paths leave empty, up to (not including) the root's first level. */
function pruneEmptyDirs(root: string, removed: string[]): void {
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
    const abs = join(root, d);
    try {
      if (readdirSync(abs).length === 0) rmdirSync(abs);
    } catch {
      // gone or not empty
    }
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

/** Compute the steps that turn the environment into `manifest`. */
export function planRestore(store: ObjectStore, envPath: string, manifest: Manifest): Step[] {
  const root = resolve(envPath);
  const target = new Map<string, PathState>();
  for (const dist of manifest.distributions) for (const e of dist.files) target.set(e.path, stateOf(e));
  for (const l of manifest.symlinks) target.set(l.path, stateOf(l));
  const steps: Step[] = [];
  for (const [rel, after] of target) {
    if (holds(store, join(root, rel), after)) continue;
    steps.push({ path: rel, before: captureState(store, root, rel), after });
  }
  // Files of what is installed now that the snapshot does not have: exactly what their RECORDs list.
  const extra = new Set<string>();
  for (const dist of installedDists(root, manifest.sitePackages)) {
    for (const rel of dist.paths) if (!target.has(rel)) extra.add(rel);
  }
  // As pip's uninstall does, the bytecode Python wrote next to a removed module goes with it.
  for (const rel of [...extra]) for (const pyc of bytecodeOf(root, rel)) if (!target.has(pyc)) extra.add(pyc);
  for (const rel of [...extra].sort()) {
    const before = captureState(store, root, rel);
    if (before.kind !== 'absent') steps.push({ path: rel, before, after: { kind: 'absent' } });
  }
  // Every file state a step brings in must be in the store before anything changes.
  for (const s of steps) {
    if (s.after.kind === 'file' && !store.has({ sha256: s.after.sha256, mode: s.after.mode })) {
      throw new BlastError(
        `The store lacks ${s.path} (${s.after.sha256.slice(0, 12)}…); nothing was changed.`,
        ExitCode.failure,
        'The snapshot was saved with another store, or its objects were removed.',
      );
    }
  }
  return steps;
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
  removals.forEach((s, i) => {
    apply(store, join(root, s.path), s.after, check);
    if (i === 0) crashPoint('restore-removing');
  });
  crashPoint('restore-removed');
  links.forEach((s, i) => {
    apply(store, join(root, s.path), s.after, check);
    if (i === 0) crashPoint('restore-linking');
  });
  crashPoint('restore-linked');
  pruneEmptyDirs(
    root,
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

function removeJournal(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

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

const LOCK_WAIT_MS = 10_000;

/**
 * One change at a time per environment: `restore.lock` (O_EXCL, holding the owner's pid) in the
 * environment's state dir. A lock whose owner died (kill -9) is taken over.
 */
export function withEnvLock<T>(envPath: string, env: Env | undefined, fn: () => T): T {
  // A live owner is waited for a while (a restore or a history read takes a moment; the daemon's
  // `blast record` may hold it when a command starts), then refused.
  return withPidLock(join(envStateDir(envPath, env), 'restore.lock'), fn, {
    waitMs: LOCK_WAIT_MS,
    busy: (owner) =>
      new BlastError(
        `Another Blast process (pid ${owner}) is changing ${envPath}.`,
        ExitCode.failure,
        'Wait for it to finish, then try again.',
      ),
  });
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
    (s) => s.after.kind !== 'file' || store.has({ sha256: s.after.sha256, mode: s.after.mode }),
  );
  run(store, root, journal.steps, forward ? 'after' : 'before');
  removeStaleTemps(root, journal.steps);
  finish(root, file);
  return { outcome: forward ? 'finished' : 'undone', steps: journal.steps.length };
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
  const before = installedDists(root, manifest.sitePackages).map((d) => `${d.name} ${d.version}`);
  const steps = planRestore(store, root, manifest);
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
  writeFileAtomic(file, JSON.stringify(journal) + '\n', 'restore-journal-temp');
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
