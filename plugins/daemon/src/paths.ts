/**
 * Where the daemon of an environment keeps its socket, pid file, state database and log.
 *
 * Plugins may not import the core at run time, so the runtime and state directories are computed
 * here from the same variables as the core's `src/lib/paths.ts` (BLAST_HOME, XDG_DATA_HOME, HOME,
 * XDG_RUNTIME_DIR, TMPDIR). The two MUST agree: when the core's rules change, change these too.
 * The CLI (hooks) and the daemon compute every path from the same environment, so they agree with
 * each other as long as the daemon is started with the CLI's environment (it is).
 */
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

function home(env: Env): string {
  return env.HOME || homedir();
}

/** Same as the core's blastHome(). */
export function blastHome(env: Env): string {
  if (env.BLAST_HOME) return resolve(env.BLAST_HOME);
  const data = env.XDG_DATA_HOME;
  return join(data && data.startsWith('/') ? data : join(home(env), '.local/share'), 'blast');
}

/** Same as the core's stateDir(). */
export function stateDir(env: Env): string {
  return join(blastHome(env), 'state');
}

function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** Same as the core's runtimeDir(). */
export function runtimeDir(env: Env): string {
  const xdgRuntime = env.XDG_RUNTIME_DIR;
  if (xdgRuntime && xdgRuntime.startsWith('/')) return join(xdgRuntime, 'blast');
  return join(env.TMPDIR || tmpdir(), `blast-${uid()}`);
}

/** A short, stable name for an environment: 16 hex digits of the SHA-256 of its absolute path. */
export function envHash(envPath: string): string {
  return createHash('sha256').update(resolve(envPath)).digest('hex').slice(0, 16);
}

/** sun_path is 108 bytes on Linux (104 on macOS), NUL included. */
export const SUN_PATH_MAX = 104;

export interface DaemonPaths {
  hash: string;
  /** The directory holding the sockets (0700). */
  runDir: string;
  socket: string;
  /**
   * The owner's pid, created O_EXCL: the lock that makes one daemon per environment. It lives in
   * the environment's state dir, next to the state database it guards, not in the runtime dir: a
   * runtime dir wiped under a running daemon (tmpfs cleaners, a reboot of XDG_RUNTIME_DIR, `rm`)
   * must not let a second daemon take the same database.
   */
  pidFile: string;
  /** Held (mkdir) while one process replaces a dead daemon's leftovers; beside the pid file. */
  takeover: string;
  /** Per-environment state: state.db, daemon.log, attached.json, daemon.pid. */
  stateDir: string;
  db: string;
  log: string;
  attached: string;
  /** `detached/<pid>`: when a shell left the environment (see control.ts markDetached). */
  detached: string;
}

export function daemonPaths(envPath: string, env: Env): DaemonPaths {
  return pathsForHash(envHash(envPath), env);
}

export function pathsForHash(hash: string, env: Env): DaemonPaths {
  let runDir = runtimeDir(env);
  // A runtime dir too deep for a socket path: fall back to a short per-user dir (still 0700).
  if (Buffer.byteLength(join(runDir, `d-${hash}.sock`)) >= SUN_PATH_MAX) runDir = `/tmp/blast-${uid()}`;
  const dir = join(stateDir(env), 'envs', hash);
  return {
    hash,
    runDir,
    socket: join(runDir, `d-${hash}.sock`),
    pidFile: join(dir, 'daemon.pid'),
    takeover: join(dir, 'daemon.takeover'),
    stateDir: dir,
    db: join(dir, 'state.db'),
    log: join(dir, 'daemon.log'),
    attached: join(dir, 'attached.json'),
    detached: join(dir, 'detached'),
  };
}
