/**
 * Locks for short, synchronous critical sections across processes (a restore, recording a
 * revision): an O_EXCL file holding the owner's pid. A lock whose owner died (kill -9) is taken
 * over; a live owner is waited for a while, then refused with a clear error.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type BlastError, diskFullError } from '../errors.js';

/** Whether a process with this pid exists (EPERM: it does, someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

export interface PidLockOptions {
  /** How long a live owner is waited for. */
  waitMs: number;
  /** The error when it still holds the lock after that. */
  busy: (owner: number) => BlastError;
}

export function withPidLock<T>(lock: string, fn: () => T, options: PidLockOptions): T {
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw diskFullError(error, { what: 'a lock', path: lock }) ?? error;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid}\n`);
      } catch (error) {
        // Ours, but without its pid (a full disk): not left behind for others to judge.
        unlinkSync(lock);
        throw diskFullError(error, { what: 'a lock', path: lock }) ?? error;
      } finally {
        closeSync(fd);
      }
      break;
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    } catch {
      continue; // released meanwhile
    }
    // A pid that is not a live other process: its owner died (or never wrote its pid, a crash
    // between open and write), or it is a dead process's pid this one now has.
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      if (Date.now() >= deadline) throw options.busy(owner);
      Atomics.wait(SLEEPER, 0, 0, 20);
      continue;
    }
    // Take it over: a rename is atomic, so only one process removes it.
    const stale = `${lock}.${process.pid}.stale`;
    try {
      renameSync(lock, stale);
      unlinkSync(stale);
    } catch {
      // another process took it over first; try again
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // already gone
    }
  }
}
