/**
 * Where the daemon keeps things. Every directory comes from the core (the event payload's `ctx`:
 * `stateDir`, `runtimeDir`, `envStateDir(path)`); the daemon process gets the same directories
 * from its command line and its attach requests. Nothing here recomputes a rule of the core: only
 * the names of the plugin's own files inside the directories the core gives.
 *
 * One daemon per user (per Blast home): its pid file, takeover lock, log and list of served
 * environments in `<stateDir>/daemon/`, its socket in the runtime dir. Per environment, in the
 * environment's state dir: the state database, attached.json, detached/.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** sun_path is 108 bytes on Linux (104 on macOS), NUL included. */
export const SUN_PATH_MAX = 104;

/** The directories the core gives (a subset of `ctx`). */
export interface Dirs {
  stateDir: string;
  runtimeDir: string;
}

export interface DaemonPlaces {
  /** `<stateDir>/daemon`: the daemon's own files (0700). */
  dir: string;
  /** The directory holding the socket (0700). */
  runDir: string;
  socket: string;
  /**
   * The owner's pid, created O_EXCL: the lock that makes one daemon per user (per Blast home). In
   * the state dir, next to the databases it guards, not in the runtime dir: a runtime dir wiped
   * under a running daemon must not let a second daemon take the same databases.
   */
  pidFile: string;
  /** Held (mkdir) while one process replaces a dead daemon's leftovers; beside the pid file. */
  takeover: string;
  log: string;
  /** The environments the daemon serves (`[{path, state}]`), so a daemon started after a crash serves them again. */
  envs: string;
}

export interface EnvPlaces {
  /** The environment (absolute path, as the core gives it). */
  path: string;
  /** Its state dir (`ctx.envStateDir(path)`). */
  stateDir: string;
  db: string;
  attached: string;
  /** `detached/<pid>`: when a shell left the environment (see detached.ts). */
  detached: string;
  /** Where a per-environment daemon of Blast before the per-user daemon kept its pid (old-daemons.ts). */
  oldPidFile: string;
}

export function daemonPlaces(dirs: Dirs): DaemonPlaces {
  const dir = join(dirs.stateDir, 'daemon');
  // Two Blast homes may share one runtime dir: each has its own socket.
  const tag = createHash('sha256').update(dirs.stateDir).digest('hex').slice(0, 12);
  const name = `daemon-${tag}.sock`;
  let runDir = dirs.runtimeDir;
  // A runtime dir too deep for a socket path: a short per-user dir instead (still 0700).
  if (Buffer.byteLength(join(runDir, name)) >= SUN_PATH_MAX) runDir = `/tmp/blast-${process.getuid?.() ?? 0}`;
  return {
    dir,
    runDir,
    socket: join(runDir, name),
    pidFile: join(dir, 'daemon.pid'),
    takeover: join(dir, 'takeover'),
    log: join(dir, 'daemon.log'),
    envs: join(dir, 'envs.json'),
  };
}

export function envPlaces(path: string, stateDir: string): EnvPlaces {
  return {
    path,
    stateDir,
    db: join(stateDir, 'state.db'),
    attached: join(stateDir, 'attached.json'),
    detached: join(stateDir, 'detached'),
    oldPidFile: join(stateDir, 'daemon.pid'),
  };
}
