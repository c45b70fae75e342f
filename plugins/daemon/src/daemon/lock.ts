/**
 * Exactly one daemon per user (per Blast home). The pid file (in `<stateDir>/daemon`, beside the
 * databases it guards), created with O_EXCL, is the lock: whoever creates it owns every
 * environment's state database, binds the socket and serves. A process that finds a pid file:
 *  - of a live daemon that answers: hands its environments and shells over there and exits;
 *  - of a dead process (kill -9, crash, reboot): replaces the leftovers under the takeover lock
 *    (an O_EXCL mkdir), re-checking the pid under it, so two newcomers never both take over;
 *  - of a live process that is not a Blast daemon (the pid was reused, e.g. after a reboot): as dead;
 *  - of a live daemon that never answers (hung): after a grace period, SIGKILLs it and takes over.
 *    The grace period covers an owner whose socket was removed: it binds a new one (main.ts).
 * The owner removes its files under the same takeover lock when it exits.
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDaemonProcess, killDaemon, living, readPidFile, DaemonError, SHUTTING_DOWN } from '../client.js';
import type { DaemonPlaces as DaemonPaths } from '../places.js';
import { ensureRunDir } from '../run-dir.js';

/**
 * Runs `fn` holding the environment's takeover lock (an O_EXCL mkdir), which whoever removes or
 * replaces a daemon's socket and pid file holds: the daemon taking over, the daemon exiting, and
 * the CLI removing leftovers (check --fix, clean, kill --force). Undefined if it never got it.
 */
export async function withTakeoverLock<T>(paths: DaemonPaths, fn: () => T): Promise<T | undefined> {
  for (let i = 0; i < 200; i++) {
    try {
      mkdirSync(paths.takeover, { mode: 0o700 });
    } catch (error) {
      // No state dir (the environment, or Blast's home, was removed): no pid file to guard, and
      // nothing to recreate there.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fn();
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(paths.takeover, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      // Held for milliseconds at a time; older means its holder died holding it.
      if (age > 10_000) rmSync(paths.takeover, { recursive: true, force: true });
      await sleep(10 + Math.random() * 20);
      continue;
    }
    try {
      return fn();
    } finally {
      rmSync(paths.takeover, { recursive: true, force: true });
    }
  }
  return undefined;
}

/** A daemon's "no" that is not "I am stopping": it lives and serves. */
function answeredNo(error: unknown): boolean {
  return error instanceof DaemonError && error.kind === 'refused' && error.message !== SHUTTING_DOWN;
}

export type Acquired = { owner: true } | { owner: false; pid: number };

/**
 * Becomes the daemon, or hands its environments and shells over to the one that is: `handOver`
 * sends them (it throws when the owner does not answer; `refused` is the owner's "no" to one
 * shell, logged, which does not stop the others from being handed over).
 */
export async function acquire(
  paths: DaemonPaths,
  handOver: (refused: (error: unknown) => boolean) => Promise<void>,
  log: (m: string) => void,
): Promise<Acquired> {
  ensureRunDir(paths.runDir);
  mkdirSync(dirname(paths.pidFile), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + 30_000;
  let unanswered: { pid: number; since: number } | undefined;
  while (Date.now() < deadline) {
    try {
      const fd = openSync(paths.pidFile, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { owner: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const info = readPidFile(paths.pidFile);
    if (!info) continue; // removed meanwhile: try again at once
    if (info.pid === 0 && info.ageMs < 2000) {
      await sleep(10); // being written
      continue;
    }
    // A zombie owner is dead: it serves nothing and writes nothing; so is a pid now another program's.
    if (info.pid !== 0 && living(info.pid) && isDaemonProcess(info.pid)) {
      try {
        // An answer that says no for another reason than stopping (that shell is gone or left the
        // environment): the owner is alive and serving; the other shells are still handed over.
        await handOver((error) => {
          if (!answeredNo(error)) return false;
          log(`daemon ${info.pid} refused: ${(error as Error).message}`);
          return true;
        });
        return { owner: false, pid: info.pid };
      } catch (error) {
        const refused = error instanceof DaemonError && error.kind === 'refused';
        if (!unanswered || unanswered.pid !== info.pid) unanswered = { pid: info.pid, since: Date.now() };
        // Starting (no socket yet) or shutting down (refuses): wait for it to answer or exit.
        if (Date.now() - unanswered.since < 5000 || (refused && Date.now() - unanswered.since < 10_000)) {
          await sleep(30);
          continue;
        }
        log(`daemon ${info.pid} has not answered for 5 s: killing it`);
        // Not one write of it may follow ours: take over only once it is gone.
        await killDaemon(info.pid).catch(() => undefined);
      }
    }
    // The owner is gone: take its place.
    await withTakeoverLock(paths, () => {
      const again = readPidFile(paths.pidFile);
      if (again && again.pid === info.pid) {
        log(
          `removing leftovers of daemon ${info.pid || '?'} (${living(info.pid) ? 'not answering' : 'dead'})`,
        );
        rmSync(paths.socket, { force: true });
        rmSync(paths.pidFile, { force: true });
      }
    });
  }
  throw new Error(`could not become or reach the daemon within 30 s`);
}

/** The owner's exit: its socket and pid file go, unless someone already replaced them. */
export async function release(paths: DaemonPaths): Promise<void> {
  await withTakeoverLock(paths, () => {
    if (readPidFile(paths.pidFile)?.pid === process.pid) {
      rmSync(paths.socket, { force: true });
      rmSync(paths.pidFile, { force: true });
    }
  });
}
