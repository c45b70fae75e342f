/**
 * `blast load --lock`: make the environment's distributions exactly the lock's.
 *
 *   plan: per locked distribution (its marker true here): already installed at that version →
 *         kept; the store has its files from this environment's revisions or snapshots →
 *         re-linked offline; else → pip. Installed distributions the lock lacks are removed (pip
 *         itself excepted, unless the lock names it).
 *   0. the state now is recorded as a revision, so the whole load can be undone with
 *      `blast load --revision N`;
 *   1. what the store lacks goes through `pip install --no-deps --require-hashes` inside a pip
 *      transaction (which rolls itself back when pip or a postInstall handler fails);
 *   2. one journaled restore does the removals and re-links (no network);
 *   3. the result is recorded as a revision of source `lock`.
 * A failure in 2 puts back the state of 0 too, so a load happens whole or not at all.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import type { EnvInfo, InstallEvent } from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import {
  type DistEntry,
  installedNames,
  latestManifest,
  type Manifest,
  ObjectStore,
  type RevisionSummary,
  type WantedDist,
  planServe,
  recordCurrent,
  rememberServed,
  type ServePlan,
  recordRevision,
  recoverEnv,
  restoreEnv,
  sitePackagesOf,
  snapshotEnv,
  withEnvLockAsync,
} from '../store/index.js';
import { runPipCapture, runTransaction, type TransactionHooks } from '../transaction/index.js';
import { restoreTransaction } from '../transaction/restore.js';
import { parseWheelName } from './filenames.js';
import { lockFormat } from './format.js';
import { interpreterFacts } from './interpreter.js';
import { tail } from './pip.js';
import { parsePylock } from './pylock.js';
import { parseRequirements } from './requirements.js';
import { type Lock, type LockedArchive, type LockedDist } from './types.js';
import { normalizeName } from '../python/names.js';

/** Read and check a lock file (format from its name). */
export function readLock(file: string): Lock {
  const format = lockFormat(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BlastError(
      code === 'ENOENT' ? `There is no lock file ${file}.` : `Cannot read ${file}: ${messageOf(error)}`,
      code === 'ENOENT' ? ExitCode.notFound : ExitCode.failure,
    );
  }
  return format === 'pylock' ? parsePylock(text, file) : parseRequirements(text, file);
}

export interface PipItem {
  dist: LockedDist;
  /** The requirements line pip gets (with its hashes). */
  line: string;
}

export interface LockPlan {
  /** `name version`, already installed as the lock has it. */
  kept: string[];
  /** Brought back from the store, offline (from this environment's history or another's). */
  relink: DistEntry[];
  /** Where each of `relink` comes from. */
  served: ServePlan[];
  /** Installed through pip. */
  pip: PipItem[];
  /** Installed now and not in the lock. */
  remove: string[];
  /** In the lock, for other environments (their marker is false here). */
  notForHere: string[];
}

const label = (d: { name: string; version: string }) => `${d.name} ${d.version}`;

/** A `file:` URL for a lock's relative or absolute path. */
function urlOf(lock: Lock, a: LockedArchive): string | undefined {
  if (a.url) return a.url;
  if (a.path) return pathToFileURL(isAbsolute(a.path) ? a.path : resolve(dirname(lock.file), a.path)).href;
  return undefined;
}

/** The requirements line for pip: the best archive for this interpreter, or name==version and every hash. */
function pipLine(lock: Lock, d: LockedDist, tags: string[]): string {
  const located = d.archives.filter((a) => urlOf(lock, a));
  if (located.length === 0) {
    const hashes = [...new Set(d.archives.map((a) => a.sha256))];
    return `${d.name}==${d.version} ${hashes.map((h) => `--hash=sha256:${h}`).join(' ')}`;
  }
  const rank = new Map(tags.map((t, i) => [t, i]));
  let best: { a: LockedArchive; score: number } | undefined;
  for (const a of located.filter((x) => x.kind === 'wheel')) {
    const wheel = a.filename ? parseWheelName(a.filename) : undefined;
    const scores = (wheel?.tags ?? []).map((t) => rank.get(t)).filter((n): n is number => n !== undefined);
    if (scores.length && (!best || Math.min(...scores) < best.score))
      best = { a, score: Math.min(...scores) };
  }
  const chosen =
    best?.a ?? located.find((a) => a.kind === 'sdist') ?? located.find((a) => a.kind === 'archive');
  if (!chosen) {
    throw new BlastError(
      `${label(d)}: none of the lock's ${located.length} wheel(s) fits this environment's Python, and it has no sdist.`,
      ExitCode.usage,
      'The lock was made for another Python or platform.',
    );
  }
  return `${d.name} @ ${urlOf(lock, chosen)} --hash=sha256:${chosen.sha256}`;
}

/** What a store-served install is told of a locked distribution: its one wheel, when the lock names it. */
function wantedOf(d: LockedDist): WantedDist {
  const wheels = d.archives.filter((a) => a.kind === 'wheel' && a.filename);
  const only = d.archives.length === 1 ? d.archives[0] : undefined;
  return {
    name: d.name,
    version: d.version,
    requested: true, // pip install -r writes REQUESTED for every line
    // A stored copy known to come from an archive the lock does not name is not served.
    hashes: d.archives.map((a) => a.sha256),
    ...(only && wheels.length === 1 ? { wheelName: wheels[0]!.filename!, hash: only.sha256 } : {}),
  };
}

export interface PlanOptions {
  env?: Env;
  store?: ObjectStore;
}

/** What applying `lock` to the environment would do (nothing is changed). */
export async function planLock(
  envPath: string,
  lock: Lock,
  current: Manifest,
  options: PlanOptions = {},
): Promise<LockPlan> {
  const env = options.env ?? process.env;
  const store = options.store ?? ObjectStore.of(env);
  const markers = [
    ...new Set([
      ...lock.distributions.flatMap((d) => (d.marker ? [d.marker] : [])),
      ...(lock.environments ?? []),
    ]),
  ];
  const needTags = lock.distributions.some((d) =>
    d.archives.some((a) => a.kind === 'wheel' && (a.url || a.path)),
  );
  const facts =
    markers.length || needTags || lock.requiresPython
      ? await interpreterFacts(envPath, { markers, tags: needTags }, env)
      : undefined;
  const holds = (m: string) => {
    const value = facts?.markers[m];
    if (typeof value === 'string')
      throw new BlastError(
        `${lock.file}: the marker ${JSON.stringify(m)} is not valid: ${value}`,
        ExitCode.usage,
      );
    return value === true;
  };
  const pep440 = await import('@renovatebot/pep440');
  if (lock.requiresPython && facts) {
    if (!pep440.satisfies(facts.python, lock.requiresPython, { prereleases: true })) {
      throw new BlastError(
        `${lock.file} requires Python ${lock.requiresPython}; this environment has ${facts.python}. Nothing was changed.`,
        ExitCode.usage,
      );
    }
  }
  if (lock.environments?.length && !lock.environments.some(holds)) {
    throw new BlastError(
      `${lock.file} is for other environments (${lock.environments.join(' | ')}). Nothing was changed.`,
      ExitCode.usage,
    );
  }
  const wanted = new Map<string, LockedDist>();
  const notForHere: string[] = [];
  for (const d of lock.distributions) {
    if (d.marker && !holds(d.marker)) {
      notForHere.push(label(d));
      continue;
    }
    const key = normalizeName(d.name);
    const twin = wanted.get(key);
    if (twin && twin.version !== d.version) {
      throw new BlastError(
        `${lock.file} pins ${d.name} twice here (${twin.version} and ${d.version}).`,
        ExitCode.usage,
      );
    }
    wanted.set(key, d);
  }
  const installed = new Map(current.distributions.map((d) => [normalizeName(d.name), d]));
  // 1.0 and 1.0.0 are one version to pip; a version PEP 440 cannot parse only equals itself.
  const sameVersion = (a: string, b: string) => {
    try {
      return a === b || pep440.eq(a, b);
    } catch {
      return false;
    }
  };
  const plan: LockPlan = { kept: [], relink: [], served: [], pip: [], remove: [], notForHere };
  const toServe: LockedDist[] = [];
  for (const [key, d] of wanted) {
    const now = installed.get(key);
    if (now && sameVersion(now.version, d.version)) plan.kept.push(label(now));
    else toServe.push(d);
  }
  // From the store, whichever environment had it (same Python minor, tags this Python accepts).
  const { plans } = planServe(envPath, toServe.map(wantedOf), {
    env,
    store,
    sitePackages: current.sitePackages,
    ...(facts?.tags.length ? { tags: facts.tags } : {}),
  });
  const byKey = new Map(plans.map((p) => [normalizeName(p.dist.name), p]));
  for (const d of toServe) {
    const served = byKey.get(normalizeName(d.name));
    if (served) {
      plan.relink.push(served.dist);
      plan.served.push(served);
    } else plan.pip.push({ dist: d, line: pipLine(lock, d, facts?.tags ?? []) });
  }
  for (const [key, d] of installed) {
    // pip is the environment's installer: a lock that does not name it leaves it alone.
    if (!wanted.has(key) && key !== 'pip') plan.remove.push(label(d));
  }
  return plan;
}

export interface LockResult {
  lock: string;
  format: Lock['format'];
  kept: string[];
  relinked: string[];
  installed: string[];
  removed: string[];
  notForHere: string[];
  /** Whether pip ran (false: everything came from the store). */
  pipRan: boolean;
  /** The revision the result was recorded as (none when the environment already was as the lock has it). */
  recordedAs?: number;
}

export interface ApplyOptions extends PlanOptions {
  info: EnvInfo;
  /** The transaction's plugin hooks (none by default). */
  hooks?: TransactionHooks;
  note?: (line: string) => void;
}

/** pip's lines worth showing while it works (the rest is in the error when it fails). */
const PROGRESS = /^(Processing|Collecting|Downloading|Installing|Successfully|Attempting uninstall)/;

const noHooks: TransactionHooks = { preInstall: async () => {}, postInstall: async () => {} };

/** Make the environment match the lock; see the module comment for the order and the guarantees. */
export async function applyLock(envPath: string, lock: Lock, options: ApplyOptions): Promise<LockResult> {
  const env = options.env ?? process.env;
  const root = resolve(envPath);
  // The environment is this load's throughout; its pip transaction runs inside (same process).
  return withEnvLockAsync(root, env, () => applyLocked(root, lock, options, env), {
    what: `blast load --lock ${lock.file}`,
    kind: 'load',
  });
}

async function applyLocked(root: string, lock: Lock, options: ApplyOptions, env: Env): Promise<LockResult> {
  const store = options.store ?? ObjectStore.of(env);
  const note = options.note ?? (() => {});
  recoverEnv(root, { env, store });
  // The state to come back to: a revision (undo with `blast load --revision N`), every file in the store.
  recordCurrent(root, { env, store, source: 'outside' });
  const before = snapshotEnv(root, { env, store, previous: latestManifest(store, root) });
  const plan = await planLock(root, lock, before, { env, store });
  const result: LockResult = {
    lock: lock.file,
    format: lock.format,
    kept: plan.kept,
    relinked: plan.relink.map(label),
    installed: plan.pip.map((p) => label(p.dist)),
    removed: plan.remove,
    notForHere: plan.notForHere,
    pipRan: false,
  };
  note(
    `${plan.kept.length} kept, ${plan.relink.length} from the store, ${plan.pip.length} through pip, ${plan.remove.length} to remove`,
  );

  let now = before;
  if (plan.pip.length) {
    result.pipRan = true;
    await pipInstall(root, lock, plan.pip, { ...options, env, note }); // rolled back by itself on failure
    now = snapshotEnv(root, { env, store, previous: before });
  }

  const drop = new Set([
    ...plan.remove.map((l) => normalizeName(l.slice(0, l.lastIndexOf(' ')))),
    ...plan.relink.map((d) => normalizeName(d.name)),
  ]);
  const target: Manifest = {
    ...now,
    createdAt: new Date().toISOString(),
    distributions: [...now.distributions.filter((d) => !drop.has(normalizeName(d.name))), ...plan.relink],
  };
  let recorded: RevisionSummary | undefined;
  if (plan.relink.length || plan.remove.length) {
    // The store's part is a transaction too (source lock, with the planned change), so a plugin's
    // policy sees the re-links and removals as it sees pip's part.
    let tx;
    try {
      tx = await restoreTransaction({
        info: options.info,
        manifest: target,
        source: 'lock',
        record: { source: 'lock', detail: lock.file },
        hooks: options.hooks ?? noHooks,
        interactive: false,
        env,
        store,
      });
    } catch (error) {
      if (result.pipRan) restoreEnv(root, before, { env, store }); // pip's part goes too
      throw error;
    }
    if (tx.exitCode !== 0) {
      if (result.pipRan) restoreEnv(root, before, { env, store });
      throw new BlastError(
        `${tx.rolledBack?.reason ?? 'the restore failed'}; the environment was put back as it was before \`blast load --lock\`.`,
        ExitCode.failure,
      );
    }
    recorded = tx.recorded;
    rememberServed(store, plan.served);
  }
  recorded ??= recordRevision(store, root, target, { source: 'lock', detail: lock.file });
  if (recorded) result.recordedAs = recorded.n;

  const after = new Map(
    installedNames(root, sitePackagesOf(root)).map((d) => [normalizeName(d.name), d.version]),
  );
  const off = [...plan.kept, ...result.relinked, ...result.installed].filter((l) => {
    const at = l.lastIndexOf(' ');
    return after.get(normalizeName(l.slice(0, at))) !== l.slice(at + 1);
  });
  if (off.length) note(`not as the lock has it afterwards: ${off.join(', ')}`);
  return result;
}

/** `pip install --no-deps --require-hashes -r <generated>` in a transaction; throws when it was rolled back. */
async function pipInstall(
  root: string,
  lock: Lock,
  items: PipItem[],
  options: ApplyOptions & { env: Env; note: (line: string) => void },
): Promise<void> {
  const temp = mkdtempSync(join(tmpdir(), 'blast-lock-'));
  try {
    const file = join(temp, 'requirements.txt');
    writeFileSync(file, [...lock.pipOptions, ...items.map((i) => i.line)].join('\n') + '\n');
    const args = [
      'install',
      '--no-deps',
      '--require-hashes',
      '--disable-pip-version-check',
      '--no-input',
      '-r',
      file,
    ];
    let output = '';
    const notes: string[] = [];
    const event: InstallEvent = {
      env: options.info,
      args,
      command: 'install',
      interactive: false,
      source: 'lock',
      notAsked: 'blast load --lock makes the environment match the lock',
    };
    const result = await runTransaction({
      envPath: root,
      event,
      hooks: options.hooks ?? noHooks,
      env: options.env,
      // The error below says what happened, once; a plugin's word on why pip failed (the install
      // sandbox stopped it) goes into it.
      report: (line) => {
        if (line.startsWith('blast: ') && !line.includes('the environment was put back'))
          notes.push(line.slice(7));
      },
      blastCommand: 'load',
      record: { source: 'pip', detail: args.join(' ') },
      pip: async (_envPath, pipArgs, pipEnv, onSpawn, wrap) => {
        const run = await runPipCapture(
          { info: options.info, args: pipArgs, env: pipEnv, ...(wrap ? { wrap: wrap.wrap } : {}) },
          { onSpawn, outliveSignals: true, onLine: (line) => PROGRESS.test(line) && options.note(line) },
        );
        output = run.stdout + run.stderr;
        return run.status;
      },
    });
    if (result.exitCode !== 0) {
      const reason = result.rolledBack?.reason ?? `pip exited with status ${result.pipExitCode}`;
      throw new BlastError(
        `${reason}; the environment was put back as it was before \`blast load --lock\`.` +
          (result.pipExitCode !== 0 ? `\n${tail(output, 12)}` : '') +
          notes.map((n) => `\n${n}`).join(''),
        ExitCode.failure,
        /DO NOT MATCH THE HASHES|hash/i.test(output)
          ? 'An archive is not the one the lock names: the lock, or what your index serves, changed since it was written.'
          : undefined,
      );
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
