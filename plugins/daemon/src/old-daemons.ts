/**
 * Daemons of a Blast from before the per-user daemon: one process per environment, its pid file
 * in the environment's state dir (`daemon.pid`), its socket `d-<16 hex>.sock` in the runtime dir,
 * `main.js <env path> --attach PID…` on its command line. After an upgrade one may still run; it
 * writes its environment's state database, which only one process may do. The shared daemon
 * stops it before it serves that environment (SIGTERM: it persists its final state and removes
 * its files; SIGKILL after a grace period), taking over the shells it had; `blast start` and
 * `blast check --fix` find the ones the shared daemon was not asked about (see hooks).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { killDaemon, living, readPidFile, request, waitGone } from './client.js';
import type { EnvPlaces } from './places.js';

const OLD_SOCKET = /^d-[0-9a-f]{16}\.sock$/;

/** Whether `pid` is a per-environment daemon of an older Blast (no `--state-dir` on its command line). */
export function isOldDaemon(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('daemon/main.js')) && !argv.includes('--state-dir');
  } catch {
    return false;
  }
}

/** The pid of a living old daemon of this environment (its pid file in the env's state dir). */
export function oldDaemonOf(env: Pick<EnvPlaces, 'oldPidFile'>): number | undefined {
  const pid = readPidFile(env.oldPidFile)?.pid;
  return pid && living(pid) && isOldDaemon(pid) ? pid : undefined;
}

/**
 * Stops an old daemon cleanly: SIGTERM, then waits until it is gone (it records its final state
 * and removes its socket and pid file); SIGKILL when it has not gone within `graceMs` (hung).
 * Whatever it left is removed then. Resolves once it is gone: not one write of it follows.
 */
export async function stopOldDaemon(
  pid: number,
  env: Pick<EnvPlaces, 'oldPidFile'>,
  runDir: string,
  graceMs = 10_000,
): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
  if (!(await waitGone(pid, graceMs))) await killDaemon(pid).catch(() => undefined);
  if (readPidFile(env.oldPidFile)?.pid === pid) rmSync(env.oldPidFile, { force: true });
  await removeDeadOldSockets(runDir);
}

/** Old daemons' sockets in the runtime dir. */
export function oldSockets(runDir: string): string[] {
  try {
    return readdirSync(runDir)
      .filter((n) => OLD_SOCKET.test(n))
      .map((n) => join(runDir, n));
  } catch {
    return [];
  }
}

/** What an old daemon that answers says about itself (its `status`): its pid and environment. */
export async function askOld(socket: string): Promise<{ pid: number; env: string } | undefined> {
  try {
    const s = await request<{ pid?: unknown; env?: unknown }>(socket, 'status', {}, 1000);
    if (typeof s.pid === 'number' && typeof s.env === 'string' && isOldDaemon(s.pid))
      return { pid: s.pid, env: s.env };
  } catch {
    // nothing answers: a dead one's socket
  }
  return undefined;
}

/** Removes old daemons' sockets nothing listens on any more (connect refused). */
export async function removeDeadOldSockets(runDir: string): Promise<void> {
  await Promise.all(
    oldSockets(runDir).map(
      (socket) =>
        new Promise<void>((done) => {
          const c = connect(socket);
          c.on('connect', () => (c.destroy(), done()));
          c.on('error', (error: NodeJS.ErrnoException) => {
            if (error.code === 'ECONNREFUSED') rmSync(socket, { force: true });
            done();
          });
        }),
    ),
  );
}
