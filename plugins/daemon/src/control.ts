/**
 * What the CLI side (the hooks) does with daemons: find out their state, start them detached,
 * kill them, and clear what a dead one left behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, readPidFile, request } from './client.js';
import type { DaemonPaths, Env } from './paths.js';

export const DAEMON_MAIN = fileURLToPath(new URL('./daemon/main.js', import.meta.url));

/**
 * The daemon idles for hours and is not CPU-bound: V8's lite mode (no optimizing compiler) and a
 * 1 MiB young generation keep its resident memory near 46 MiB instead of 51–53 (bench/daemon.js).
 */
export const DAEMON_NODE_FLAGS = ['--lite-mode', '--max-semi-space-size=1'];

export interface Status {
  pid: number;
  env: string;
  attached: number[];
  uptimeMs: number;
  rss: number;
  cpu: { userMs: number; systemMs: number };
  packages: number;
  diskBytes: number | null;
  lastChange: string | null;
  changes: number;
}

export type DaemonState =
  | { state: 'running'; pid: number; status?: Status }
  | { state: 'stopped' }
  | { state: 'stale'; pid: number | null; why: string; leftovers: string[] };

/** Asks the daemon (short timeout) and looks at its files. */
export async function daemonState(paths: DaemonPaths, timeoutMs = 500): Promise<DaemonState> {
  const pidInfo = readPidFile(paths.pidFile);
  const socketThere = existsSync(paths.socket);
  if (!pidInfo && !socketThere) return { state: 'stopped' };
  try {
    const status = await request<Status>(paths.socket, 'status', {}, timeoutMs);
    return { state: 'running', pid: status.pid, status };
  } catch {
    // Not answering: dead, or just starting (pid file written, socket not yet listening).
  }
  const leftovers = [paths.socket, paths.pidFile].filter((f) => existsSync(f));
  if (pidInfo && alive(pidInfo.pid) && pidInfo.ageMs < 3000) {
    // A daemon that is just starting up: not stale yet.
    return { state: 'running', pid: pidInfo.pid };
  }
  const why = !pidInfo
    ? 'a socket without a daemon'
    : alive(pidInfo.pid)
      ? `pid ${pidInfo.pid} does not answer on the socket`
      : `daemon pid ${pidInfo.pid || '?'} is dead`;
  return { state: 'stale', pid: pidInfo?.pid || null, why, leftovers };
}

/**
 * Removes a dead daemon's socket and pid file. Only when the pid in the file is still the dead one:
 * a daemon that started meanwhile keeps its files.
 */
export function removeLeftovers(paths: DaemonPaths, deadPid: number | null): void {
  const now = readPidFile(paths.pidFile);
  if (now && now.pid !== 0 && now.pid !== deadPid && alive(now.pid)) return;
  rmSync(paths.socket, { force: true });
  rmSync(paths.pidFile, { force: true });
}

/**
 * The core CLI's executable (`<root>/bin/run.js`), which the daemon runs as `blast record` to
 * have a change it saw recorded as a revision: plugins may not import the core, so they call it.
 */
export function coreBin(root: string): string {
  return join(root, 'bin', 'run.js');
}

/**
 * Starts the environment's daemon detached and does not wait for it. If another daemon wins the
 * race for the environment, the new one attaches the pids there and exits. Its stdio is /dev/null;
 * descriptors this process inherited without close-on-exec are closed by the daemon first thing
 * (see daemon/fds.ts).
 */
export function spawnDaemon(
  envPath: string,
  attach: number[],
  env: Env,
  recordWith?: string,
): number | undefined {
  const args = [
    ...DAEMON_NODE_FLAGS,
    DAEMON_MAIN,
    envPath,
    ...attach.flatMap((pid) => ['--attach', String(pid)]),
    ...(recordWith ? ['--record-with', recordWith] : []),
  ];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: 'ignore',
    env: env as NodeJS.ProcessEnv,
    cwd: '/',
  });
  child.on('error', () => {});
  child.unref();
  return child.pid;
}

/** SIGKILL the daemon (if its pid file names a live process) and remove its files. */
export function forceKill(paths: DaemonPaths): number | null {
  const info = readPidFile(paths.pidFile);
  let killed: number | null = null;
  if (info && alive(info.pid) && isDaemonProcess(info.pid, paths)) {
    try {
      process.kill(info.pid, 'SIGKILL');
      killed = info.pid;
    } catch {
      // gone meanwhile
    }
  }
  rmSync(paths.socket, { force: true });
  rmSync(paths.pidFile, { force: true });
  return killed;
}

/** On Linux, check the pid's command line before killing it: pids are reused. */
function isDaemonProcess(pid: number, paths: DaemonPaths): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('daemon/main.js');
  } catch {
    // No /proc (macOS): trust the pid file if it is younger than the socket's existence.
    return existsSync(paths.socket) && statSync(paths.socket).isSocket();
  }
}

/** Pids recorded as attached by a daemon that may have died (the daemon keeps this file). */
export function recordedAttached(paths: DaemonPaths): number[] {
  try {
    const pids = JSON.parse(readFileSync(paths.attached, 'utf8')) as unknown;
    return Array.isArray(pids) ? pids.filter((p): p is number => Number.isInteger(p) && p > 0) : [];
  } catch {
    return [];
  }
}
