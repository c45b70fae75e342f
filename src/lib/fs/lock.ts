/**
 * The one lock primitive of the project: a file that names its owner, for critical sections
 * across processes (the registry, an environment's changes, revisions). What it guarantees:
 *
 * - The lock file appears atomically with its whole content: the owner's record is written to a
 *   temp file of its own, then hard-linked to the lock's name; link() fails with EEXIST when the
 *   lock is held. There is never an empty or half-written lock file (an empty or unreadable one
 *   can only be a leftover, e.g. of an older Blast, and is treated as a dead owner's).
 * - An owner is dead when its pid does not exist, or exists with another start time (the pid was
 *   reused): the record holds the start time from /proc/<pid>/stat where there is one.
 * - Taking over a dead owner's lock is not check-then-act. A taker first claims that very lock
 *   record, identified by the random token inside it, with a claim file created the same atomic
 *   way; only the claim's holder may remove the lock, and only after reading the same token
 *   there again. A claim whose holder died is itself taken over by the same rule (one level up).
 *   So two processes never both believe they hold the lock, and a kill -9 at any point leaves
 *   nothing that blocks the next taker for longer than it takes to notice the owner is gone.
 * - A live owner is waited for until a deadline, then refused with a BlastError that names the
 *   owner's pid and what it is doing.
 *
 * A process holds a lock once: with `reentrant` (the default) a section nested in the holder's
 * own section (a restore inside a pip transaction's life) runs at once; without it (the
 * registry, whose async sections may overlap in one process) the nested one waits like any other.
 *
 * proper-lockfile (used before for the registry) calls a lock stale by its mtime, refreshed on a
 * timer: a holder killed with -9 blocks everyone for the stale time (≥ 2 s, 10 s here), and a
 * holder whose event loop stalls past it loses its lock while it still works. Owner liveness by
 * pid and start time has neither problem, hence this primitive instead.
 */
import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BlastError, diskFullError, ExitCode, messageOf } from '../cli/errors.js';
import { alive } from './alive.js';

/**
 * When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined where there is no /proc or the process is gone. The name in field 2 may hold spaces
 * and parentheses, so the fields are counted after its last ')'.
 */
export function startTime(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // field 22 overall: 2 fields before the name's end, state is field 3
}

const HAS_PROC = (() => {
  try {
    statSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

let ownStart: string | undefined | null = null;
function myStart(): string | undefined {
  if (ownStart === null) ownStart = startTime(process.pid);
  return ownStart;
}

/** Who holds a lock, as its file says. */
export interface LockOwner {
  pid: number;
  /** The owner's start time (/proc), to tell a reused pid apart. */
  start?: string;
  /** What the owner is doing, for whoever waits (`pip install x`, `blast load sA`). */
  what: string;
  /** A kind callers may act on (e.g. `pip`: a pip transaction, which records its own revision). */
  kind?: string;
  /** When it took the lock (ISO). */
  since?: string;
}

interface Seen {
  /** Absent when the file is no lock record (empty, garbage, a directory): a dead owner's. */
  owner?: LockOwner;
  /** This very lock record: its token, or for a file without one its inode and mtime. */
  id: string;
}

interface LockRecord extends LockOwner {
  v: 1;
  token: string;
}

/** Whether the owner still runs: its pid exists, with the same start time when one is known. */
export function ownerAlive(owner: LockOwner): boolean {
  if (!alive(owner.pid)) return false;
  if (owner.start === undefined || !HAS_PROC) return true;
  const now = owner.pid === process.pid ? myStart() : startTime(owner.pid);
  return now === owner.start;
}

function readLock(path: string): Seen | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code !== 'EISDIR') throw error;
    // proper-lockfile's lock directory, left by an older Blast.
    text = '';
  }
  let parsed: Partial<LockRecord> | undefined;
  try {
    parsed = JSON.parse(text) as Partial<LockRecord>;
  } catch {
    parsed = undefined;
  }
  if (
    parsed &&
    parsed.v === 1 &&
    typeof parsed.token === 'string' &&
    Number.isInteger(parsed.pid) &&
    (parsed.pid as number) > 0
  ) {
    const { v: _v, token, ...owner } = parsed as LockRecord;
    return { owner: { ...owner, what: typeof owner.what === 'string' ? owner.what : '' }, id: token };
  }
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const id = `raw-${st.ino}-${st.mtimeNs}-${st.size}`;
  // An older Blast's pid lock: the pid alone, no start time.
  const legacy = /^(\d+)\n?$/.exec(text);
  if (legacy) return { owner: { pid: Number(legacy[1]), what: '' }, id };
  return { id };
}

function isAlive(seen: Seen): seen is Seen & { owner: LockOwner } {
  return seen.owner !== undefined && ownerAlive(seen.owner);
}

function recordOf(what: string, kind: string | undefined): LockRecord {
  const start = myStart();
  return {
    v: 1,
    pid: process.pid,
    ...(start !== undefined ? { start } : {}),
    what,
    ...(kind !== undefined ? { kind } : {}),
    since: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
}

const TEMP = /^(.*)\.(\d+)\.[0-9a-f]+\.tmp$/;

function cannotLock(path: string, error: unknown): BlastError {
  return new BlastError(
    `Cannot create the lock ${path}: ${messageOf(error)}.`,
    ExitCode.failure,
    `Blast needs to write in ${dirname(path)}; check its permissions and free space.`,
  );
}

/** Create `path` holding `record`, atomically and only if it does not exist. */
function create(path: string, record: LockRecord, guards = 'a lock'): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(record) + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    // On a full disk the temp may exist, empty: it must not stay (it is not a lock, but it is litter).
    rmSync(temp, { force: true });
    throw diskFullError(error, { what: guards, path }) ?? cannotLock(path, error);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotLock(path, error);
    return false;
  } finally {
    unlinkSync(temp);
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EISDIR' || code === 'EPERM') rmdirSync(path);
    else throw error;
  }
}

/**
 * What dead processes left next to the lock: temp files (a kill -9 between writing and linking
 * one) and claims (a kill -9 between removing the lock and the claim).
 */
function removeLeftovers(path: string, depth: number): void {
  const dir = dirname(path);
  const prefix = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = TEMP.exec(name);
    if (m && (m[1] === prefix || m[1]!.startsWith(`${prefix}.break-`))) {
      if (!alive(Number(m[2]))) remove(join(dir, name));
    } else if (!m && name.startsWith(`${prefix}.break-`) && depth < MAX_DEPTH) {
      // A claim whose holder died after removing the lock: removed by the protocol too.
      const claim = join(dir, name);
      const seen = readLock(claim);
      if (seen && !isAlive(seen)) breakDead(claim, seen, depth + 1);
    }
  }
}

/** Claims on claims on... a lock: each level needs a kill -9 inside the one below's microseconds. */
const MAX_DEPTH = 8;

/**
 * Remove the lock record `seen` from `path`, its owner being dead, under a claim on that record
 * (see the top of this file). Returns when it is gone or someone else is removing it.
 */
function breakDead(path: string, seen: Seen, depth = 0): void {
  const claim = `${path}.break-${seen.id.replace(/[^\w-]/g, '_')}`;
  if (create(claim, recordOf(`taking over ${path}`, undefined))) {
    try {
      const now = readLock(path);
      if (now && now.id === seen.id) remove(path);
      removeLeftovers(path, depth);
    } finally {
      remove(claim);
    }
    return;
  }
  const other = readLock(claim);
  if (!other) return; // removed meanwhile: its holder is done
  if (isAlive(other)) {
    pause(1); // another process is removing it right now
    return;
  }
  if (depth >= MAX_DEPTH) throw new Error(`Cannot take over the lock ${path}: too many dead claims on it.`);
  breakDead(claim, other, depth + 1);
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
function pause(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms);
}

/** Locks this process holds, by path: what a reentrant section finds held already. */
const held = new Map<string, number>();

export interface LockOptions {
  /** What the holder does, shown to whoever waits (`blast load sA`). */
  what: string;
  /** A kind waiters may act on (see `yieldTo`). */
  kind?: string;
  /** How long a live owner is waited for (ms). */
  waitMs: number;
  /** The error when it still holds the lock at the deadline (default: a BlastError naming it). */
  busy?: (owner: LockOwner) => BlastError;
  /** Told once when a wait for a live owner lasts (a visible "waiting for pid N" line). */
  onWait?: (owner: LockOwner) => void;
  /** Give up at once instead of waiting when this owner holds it (see `tryWithLock`). */
  yieldTo?: (owner: LockOwner) => boolean;
  /** Whether a section nested in this process's own holding runs at once (default true). */
  reentrant?: boolean;
  /** What the lock guards, for the disk-full message (`the registry`; default: `a lock`). */
  guards?: string;
}

/** After how long a waiter says so: a lock held for milliseconds should not print anything. */
const WAIT_NOTICE_MS = 500;

/** A held lock; `release` removes it (only if it is still this holder's). */
export interface HeldLock {
  release(): void;
}

type Attempt = { held: HeldLock } | { owner: LockOwner };

/** The lock just created at `path` with `record`, as this process's. */
function holding(path: string, record: LockRecord): HeldLock {
  held.set(path, (held.get(path) ?? 0) + 1);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      const n = (held.get(path) ?? 1) - 1;
      if (n > 0) held.set(path, n);
      else held.delete(path);
      // Only ours: a lock someone took over (they judged this process dead) stays theirs.
      if (readLock(path)?.id === record.token) remove(path);
    },
  };
}

/** One try: take the lock, taking over a dead owner's; or say who holds it. */
function attempt(path: string, record: LockRecord, guards?: string): Attempt {
  for (;;) {
    if (create(path, record, guards)) return { held: holding(path, record) };
    const seen = readLock(path);
    if (!seen) continue; // released meanwhile
    if (isAlive(seen)) return { owner: seen.owner };
    breakDead(path, seen);
  }
}

/** The default refusal at the deadline. */
export function lockedError(path: string, owner: LockOwner, subject = path): BlastError {
  const doing = owner.what ? ` (${owner.what}${owner.since ? `, since ${owner.since}` : ''})` : '';
  return new BlastError(
    `${subject} is locked by another Blast process: pid ${owner.pid}${doing}.`,
    ExitCode.failure,
    `Wait for it to finish and try again; if pid ${owner.pid} is stuck, stop it (kill ${owner.pid}): ` +
      `its lock (${path}) is taken over as soon as it is gone.`,
  );
}

class Waiter {
  readonly deadline: number;
  private readonly started = Date.now();
  private told?: number;
  constructor(private readonly options: LockOptions) {
    this.deadline = this.started + options.waitMs;
  }
  /** After a busy attempt: the error to throw, or undefined to wait on. */
  check(path: string, owner: LockOwner): BlastError | undefined {
    const now = Date.now();
    if (now >= this.deadline) return (this.options.busy ?? ((o) => lockedError(path, o)))(owner);
    if (this.options.onWait && this.told !== owner.pid && now - this.started >= WAIT_NOTICE_MS) {
      this.told = owner.pid;
      this.options.onWait(owner);
    }
    return undefined;
  }
  /** Short sleeps with jitter, so waiters do not wake in step; longer once the wait is long. */
  nap(): number {
    const long = Date.now() - this.started > 2000;
    return (long ? 50 : 5) + Math.floor(Math.random() * (long ? 50 : 15));
  }
}

function prepare(path: string): string {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true, mode: 0o700 });
  return abs;
}

/** The lock held, waiting for a live owner up to the deadline; `{owner}` when `yieldTo` it. */
export function acquireLockSync(
  path: string,
  options: LockOptions,
): { held: HeldLock } | { owner: LockOwner } {
  const abs = prepare(path);
  const record = recordOf(options.what, options.kind);
  const waiter = new Waiter(options);
  for (;;) {
    const got = attempt(abs, record, options.guards);
    if ('held' in got) return got;
    if (options.yieldTo?.(got.owner)) return got;
    const error = waiter.check(abs, got.owner);
    if (error) throw error;
    pause(waiter.nap());
  }
}

/** As acquireLockSync, waiting without blocking the event loop. */
export async function acquireLock(
  path: string,
  options: LockOptions,
): Promise<{ held: HeldLock } | { owner: LockOwner }> {
  const abs = prepare(path);
  const record = recordOf(options.what, options.kind);
  const waiter = new Waiter(options);
  for (;;) {
    const got = attempt(abs, record, options.guards);
    if ('held' in got) return got;
    if (options.yieldTo?.(got.owner)) return got;
    const error = waiter.check(abs, got.owner);
    if (error) throw error;
    await new Promise((done) => setTimeout(done, waiter.nap()));
  }
}

function reenters(path: string, options: LockOptions): boolean {
  return options.reentrant !== false && held.has(resolve(path));
}

/** Run `fn` holding the lock (see LockOptions); a dead owner's lock is taken over. */
export function withLock<T>(path: string, fn: () => T, options: LockOptions): T {
  const got = tryWithLock(path, fn, options);
  if ('owner' in got) throw (options.busy ?? ((o) => lockedError(path, o)))(got.owner);
  return got.value;
}

/** As withLock, but `{owner}` without running `fn` when `options.yieldTo` that owner. */
export function tryWithLock<T>(
  path: string,
  fn: () => T,
  options: LockOptions,
): { value: T } | { owner: LockOwner } {
  if (reenters(path, options)) return { value: fn() };
  const got = acquireLockSync(path, options);
  if ('owner' in got) return got;
  try {
    return { value: fn() };
  } finally {
    got.held.release();
  }
}

/** As withLock for an async section: waits without blocking the event loop. */
export async function withLockAsync<T>(path: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
  if (reenters(path, options)) return fn();
  const got = await acquireLock(path, options);
  if ('owner' in got) throw (options.busy ?? ((o) => lockedError(path, o)))(got.owner);
  try {
    return await fn();
  } finally {
    got.held.release();
  }
}

/** A lock that is there: its owner (absent for a leftover that is no lock record), whether alive, its age. */
export interface LockState {
  owner?: LockOwner;
  alive: boolean;
  ageMs: number;
}

/** Who holds the lock at `path`, changing nothing; undefined when it is free. */
export function inspectLock(path: string): LockState | undefined {
  const abs = resolve(path);
  const seen = readLock(abs);
  if (!seen) return undefined;
  let ageMs = 0;
  try {
    ageMs = Date.now() - statSync(abs).mtimeMs;
  } catch {
    return undefined; // released meanwhile
  }
  return { ...(seen.owner ? { owner: seen.owner } : {}), alive: isAlive(seen), ageMs };
}

/** Take the lock only if it is free (a dead owner's is not taken over); undefined when it is not. */
export function tryLockFree(path: string, what: string): HeldLock | undefined {
  const abs = prepare(path);
  const record = recordOf(what, undefined);
  return create(abs, record) ? holding(abs, record) : undefined;
}

/** Remove the lock when its owner is dead (`blast clean`); false when it is free or alive. */
export function breakDeadLock(path: string): boolean {
  const abs = resolve(path);
  const seen = readLock(abs);
  if (!seen || isAlive(seen)) return false;
  breakDead(abs, seen);
  return readLock(abs)?.id !== seen.id;
}
