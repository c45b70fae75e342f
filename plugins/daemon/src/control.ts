/**
 * What the CLI side (the hooks) does with the daemon: find out its state, start it detached,
 * kill it, and clear what a dead one left behind. Every directory comes from the event's `ctx`.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BlastContext } from 'blast/contract';
import { isDaemonProcess, killDaemon, living, processState, readPidFile, request } from './client.js';
import { withTakeoverLock } from './daemon/lock.js';
import { markDetached, readAttached, writeAttached } from './detached.js';
import { askOld, oldSockets } from './old-daemons.js';
import { daemonPlaces, envPlaces, type DaemonPlaces, type EnvPlaces } from './places.js';

export const DAEMON_MAIN = fileURLToPath(new URL('./daemon/main.js', import.meta.url));

/**
 * The daemon idles for hours and is not CPU-bound: V8's lite mode (no optimizing compiler) and a
 * 1 MiB young generation keep its resident memory low (bench/daemon.js, bench/scale.js).
 */
export const DAEMON_NODE_FLAGS = ['--lite-mode', '--max-semi-space-size=1'];

/** The daemon's files, and one environment's, from the core's directories. */
export function placesOf(ctx: Pick<BlastContext, 'stateDir' | 'runtimeDir'>): DaemonPlaces {
  return daemonPlaces(ctx);
}
export function envPlacesOf(ctx: Pick<BlastContext, 'envStateDir'>, envPath: string): EnvPlaces {
  return envPlaces(envPath, ctx.envStateDir(envPath));
}

/** The daemon as a whole. */
export interface DaemonStatus {
  pid: number;
  uptimeMs: number;
  rss: number;
  /** The whole process's CPU time since it started (as in /proc/<pid>/stat). */
  cpu: { userMs: number; systemMs: number };
  envs: EnvStatus[];
}

/** One served environment. */
export interface EnvStatus {
  env: string;
  attached: number[];
  packages: number;
  lastChange: string | null;
  changes: number;
}

/** `status {env}`: the daemon's figures and one environment's. */
export type Status = Omit<DaemonStatus, 'envs'> & EnvStatus;

/** The daemon's resident memory in MiB, one decimal. */
export function memoryMiB(s: Pick<DaemonStatus, 'rss'>): number {
  return Math.round((s.rss / 1048576) * 10) / 10;
}

/** The CPU time the daemon process used (user + system) in seconds, two decimals. */
export function cpuSeconds(s: Pick<DaemonStatus, 'cpu'>): number {
  return Math.round((s.cpu.userMs + s.cpu.systemMs) / 10) / 100;
}

export type DaemonState =
  | { state: 'running'; pid: number; status?: DaemonStatus }
  | { state: 'stopped' }
  /**
   * A living daemon process that did not answer within the timeout (busy, the machine loaded, or
   * its socket removed and not yet bound again): not stale. Whoever would act on it asks again
   * with more time first (see check).
   */
  | { state: 'slow'; pid: number; why: string }
  | {
      state: 'stale';
      pid: number | null;
      why: string;
      leftovers: string[];
      /**
       * The daemon process still exists (stopped with SIGSTOP, or stuck) but does not answer. It is
       * not dead: its files are not leftovers, and it may write again when it resumes. It must be
       * killed before anything replaces it.
       */
      hung: boolean;
    };

/** Asks the daemon (short timeout) and looks at its files. */
export async function daemonState(paths: DaemonPlaces, timeoutMs = 500): Promise<DaemonState> {
  const pidInfo = readPidFile(paths.pidFile);
  const socketThere = existsSync(paths.socket);
  if (!pidInfo && !socketThere) return { state: 'stopped' };
  try {
    const status = await request<DaemonStatus>(paths.socket, 'status', {}, timeoutMs);
    return { state: 'running', pid: status.pid, status };
  } catch {
    // Not answering: dead, hung, or just starting (pid file written, socket not yet listening).
  }
  const leftovers = [paths.socket, paths.pidFile].filter((f) => existsSync(f));
  const pid = pidInfo?.pid || null;
  if (pid !== null && living(pid) && pidInfo!.ageMs < 3000) {
    // A daemon that is just starting up: not stale yet.
    return { state: 'running', pid };
  }
  if (pid !== null && living(pid) && isDaemonProcess(pid) && processState(pid) !== 'T') {
    const why = existsSync(paths.socket)
      ? `pid ${pid} did not answer within ${timeoutMs} ms`
      : `pid ${pid} runs, but its socket ${paths.socket} is gone (it binds it again within seconds)`;
    return { state: 'slow', pid, why };
  }
  const base = { state: 'stale' as const, pid, leftovers };
  if (pid === null)
    return { ...base, hung: false, why: pidInfo ? 'an empty pid file' : 'a socket without a daemon' };
  if (!living(pid)) return { ...base, hung: false, why: `daemon pid ${pid} is dead` };
  if (!isDaemonProcess(pid))
    return { ...base, hung: false, why: `daemon pid ${pid} is dead (the pid is now another program's)` };
  const stopped = processState(pid) === 'T' ? ' (it is stopped)' : '';
  return { ...base, hung: true, why: `pid ${pid} does not answer on the socket${stopped}` };
}

/**
 * Removes a dead daemon's socket and pid file, under the takeover lock (so no daemon taking over or
 * exiting removes or creates them at the same time). Only when the pid file still names the dead
 * daemon, and it is really dead (a zombie is): a daemon that started meanwhile keeps its files, and
 * so does a hung one (see killHung). Returns whether they were removed.
 */
export async function removeLeftovers(paths: DaemonPlaces, stalePid: number | null): Promise<boolean> {
  const removed = await withTakeoverLock(paths, () => {
    const now = readPidFile(paths.pidFile);
    // Kept: a daemon's pid file being written (empty, young); another daemon that lives (it
    // started meanwhile); the stale daemon itself when it lives on (hung: not dead). A pid now
    // used by another program is the dead daemon's, reused.
    if (now)
      if (
        now.pid === 0
          ? now.ageMs < 2000
          : living(now.pid) && (now.pid !== stalePid || isDaemonProcess(now.pid))
      )
        return false;
    rmSync(paths.socket, { force: true });
    rmSync(paths.pidFile, { force: true });
    return true;
  });
  return removed === true;
}

/**
 * What is at the socket path when it is not a socket (a directory, a file, a link), else undefined.
 * No daemon can listen there: each one started for the environment dies on it.
 */
export function socketBlocker(paths: DaemonPlaces): string | undefined {
  const st = lstatSync(paths.socket, { throwIfNoEntry: false });
  if (!st || st.isSocket()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return st.isFile() ? 'a regular file' : 'a special file';
}

/**
 * Removes what blocks the socket path, under the takeover lock, checking again under it that it is
 * still no socket: a daemon's socket (live, or being created) is never removed here. A link goes
 * itself, not what it points to.
 */
export async function removeSocketBlocker(paths: DaemonPlaces): Promise<void> {
  const done = await withTakeoverLock(paths, () => {
    if (socketBlocker(paths)) rmSync(paths.socket, { recursive: true, force: true });
    return true;
  });
  if (!done) throw new Error(`the takeover lock ${paths.takeover} stayed taken`);
}

/**
 * A daemon that lives but does not answer (SIGSTOPped, stuck): SIGKILL it and wait until it is gone
 * (a zombie counts as gone), so that nothing it does can follow a fresh daemon's writes. A pid that
 * is no longer a Blast daemon's is left alone.
 */
export async function killHung(pid: number): Promise<void> {
  const gone = await killDaemon(pid).catch((error: unknown) => {
    throw new Error(`cannot kill daemon pid ${pid}: ${(error as Error).message}`);
  });
  if (gone === false) throw new Error(`daemon pid ${pid} is still there after SIGKILL`);
}

/** An environment for the daemon to serve, with the shells to attach there. */
export interface EnvStart {
  path: string;
  state: string;
  pids: number[];
}

/**
 * Starts the daemon detached and does not wait for it. If another daemon wins the race, the new
 * one hands its environments and shells over there and exits. Its stdio is /dev/null; descriptors
 * this process inherited without close-on-exec are closed by the daemon first thing (see
 * daemon/fds.ts). Everything it needs comes from `ctx`: the directories, how to run Blast
 * (`ctx.cli`, for `blast record`), and the environment (`ctx.env`, whose BLAST_HOME the core made
 * absolute: the daemon runs in /).
 */
export function spawnDaemon(ctx: BlastContext, envs: EnvStart[]): number | undefined {
  const args = [
    ...DAEMON_NODE_FLAGS,
    DAEMON_MAIN,
    '--state-dir',
    ctx.stateDir,
    '--runtime-dir',
    ctx.runtimeDir,
    '--cli',
    JSON.stringify(ctx.cli),
    // As of now: a shell that leaves (`blast kill`) from now on is not attached, however late the
    // daemon gets to it (see detached.ts).
    '--since',
    String(Date.now()),
    ...envs.flatMap((e) => [
      '--env',
      e.path,
      '--env-state',
      e.state,
      ...e.pids.flatMap((pid) => ['--attach', String(pid)]),
    ]),
  ];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: 'ignore',
    env: { ...ctx.env },
    cwd: '/',
  });
  child.on('error', () => {});
  child.unref();
  return child.pid;
}

/**
 * Per-environment daemons of an older Blast that still answer in the runtime dir: their
 * environments, for a new daemon to serve (it stops each old one before it opens its database).
 */
export async function oldDaemonEnvs(ctx: BlastContext, places: DaemonPlaces): Promise<EnvStart[]> {
  const dirs = new Set([ctx.runtimeDir, places.runDir]);
  const found = await Promise.all([...dirs].flatMap((dir) => oldSockets(dir)).map((s) => askOld(s)));
  const envs = new Map<string, EnvStart>();
  for (const old of found)
    if (old) envs.set(old.env, { path: old.env, state: ctx.envStateDir(old.env), pids: [] });
  return [...envs.values()];
}

/**
 * `blast kill --force`: SIGKILL the daemon (if its pid file names a live Blast daemon), wait until
 * it is gone, remove its socket and pid file, and strike the killing shell off the attached shells
 * the daemon recorded for the environment: the next daemon re-attaches the shells listed there
 * that still live (their activation stays), but this shell's activation is over.
 */
export async function forceKill(
  paths: DaemonPlaces,
  env: EnvPlaces,
  shellPid: number,
): Promise<number | null> {
  const info = readPidFile(paths.pidFile);
  // Gone before its files are touched: a dying daemon must not rewrite attached.json after us.
  const outcome = info ? await killDaemon(info.pid).catch(() => undefined) : undefined;
  const killed = outcome === undefined ? null : info!.pid;
  await withTakeoverLock(paths, () => {
    const now = readPidFile(paths.pidFile);
    // Unless a new daemon took over meanwhile.
    if (now && now.pid !== 0 && now.pid !== info?.pid && living(now.pid)) return;
    rmSync(paths.socket, { force: true });
    rmSync(paths.pidFile, { force: true });
  });
  forgetShell(env, shellPid);
  return killed;
}

/** Removes a shell from the recorded attached shells (attached.json; the file goes when empty). */
export function forgetShell(paths: EnvPlaces, shellPid: number): void {
  const shells = readAttached(paths);
  if (!shells.delete(shellPid)) return;
  if (shells.size === 0) rmSync(paths.attached, { force: true });
  else writeAttached(paths, shells);
}

/** Pids recorded as attached by a daemon that may have died (the daemon keeps this file). */
export function recordedAttached(paths: EnvPlaces): number[] {
  return [...readAttached(paths).keys()];
}

/**
 * A shell leaves the environment (`blast kill`): the mark first (a daemon still starting, hung or
 * dead does not attach it again, nor does `check --fix`), then the detach; a daemon that did not
 * hear it has the shell struck off attached.json too.
 */
export async function leave(
  paths: DaemonPlaces,
  env: EnvPlaces,
  shellPid: number,
  timeoutMs: number,
): Promise<void> {
  try {
    markDetached(env, shellPid);
  } catch {
    // a state dir that cannot be written: the detach below is all there is
  }
  const heard = await request(paths.socket, 'detach', { env: env.path, pid: shellPid }, timeoutMs).then(
    () => true,
    () => false,
  );
  if (!heard)
    try {
      forgetShell(env, shellPid);
    } catch {
      // the mark is enough
    }
}
