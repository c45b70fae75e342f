/**
 * The sandbox: bubblewrap (`bwrap`, the tool Flatpak uses), unprivileged through a user namespace.
 * Inside it the whole system is read-only, /tmp and /dev/shm are private and empty, the
 * environment and the current project are writable, and with no-network the process has its own
 * network namespace with nothing but its own loopback. Resource limits are applied inside it
 * (`bwrap … prlimit … -- CMD`), so max-procs counts the sandbox's processes, not the user's.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Policy } from './policy.js';
import { findExecutable } from './which.js';

export function bwrapPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findExecutable('bwrap', env);
}

/**
 * Whether this machine can sandbox: bwrap on PATH, and able to make the namespaces the policy
 * needs (a user namespace always). Throws with what is missing and how to get it.
 */
export function requireSandbox(policy: Policy, env: NodeJS.ProcessEnv = process.env): string {
  const bwrap = bwrapPath(env);
  if (!bwrap) {
    throw new Error(
      'isolation sandbox needs bubblewrap (bwrap), which is not on PATH. Install it: apt-get install bubblewrap (Debian/Ubuntu), dnf install bubblewrap (Fedora), pacman -S bubblewrap (Arch).',
    );
  }
  const probe = spawnSync(
    bwrap,
    ['--unshare-user', ...(policy.noNetwork ? ['--unshare-net'] : []), '--ro-bind', '/', '/', 'true'],
    { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (probe.status !== 0) {
    const why = (probe.stderr || probe.error?.message || `exit ${probe.status}`).trim();
    throw new Error(
      `bubblewrap cannot create a sandbox on this machine (${why}): unprivileged user namespaces are off. Enable them: sysctl -w kernel.unprivileged_userns_clone=1 (Debian), sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04), or raise user.max_user_namespaces.`,
    );
  }
  return bwrap;
}

export interface SandboxPlace {
  envPath: string;
  cwd: string;
  home: string | undefined;
  /** Paths the process must read though they are under the private /tmp (the subshell's rc files). */
  readable: readonly string[];
  /** XDG_RUNTIME_DIR: sockets of the user's session (agents, buses), hidden inside. */
  runtimeDir: string | undefined;
  /**
   * What must run inside, wherever it is installed: Blast itself (the subshell's function calls
   * it) and Node. Read-only like the rest of the system, bound again when a private mount hides it.
   */
  programs?: readonly string[];
}

/**
 * The project directory made writable: the current directory, unless that is `/`, the home
 * directory or above it — then only the environment is (a sandbox with a writable home is none).
 */
export function projectDir(cwd: string, home: string | undefined): string | undefined {
  const dir = resolve(cwd);
  if (dir === '/') return undefined;
  if (home) {
    const h = resolve(home);
    if (h === dir || h.startsWith(dir.endsWith('/') ? dir : `${dir}/`)) return undefined;
  }
  return dir;
}

/**
 * What every bwrap of this plugin starts with: its own namespaces (the network's too when asked),
 * no capabilities, the system read-only, a private /dev and /proc.
 */
export function bwrapBase(noNetwork = false): string[] {
  return [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(noNetwork ? ['--unshare-net'] : []),
    // No capabilities, even for root: root inside could otherwise remount what is read-only.
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
  ];
}

/** bwrap's arguments up to (not including) the command it runs. */
export function bwrapArgs(policy: Policy, place: SandboxPlace): string[] {
  const args = [
    '--die-with-parent',
    ...bwrapBase(policy.noNetwork),
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/var/tmp',
    '--tmpfs',
    '/dev/shm',
  ];
  if (place.runtimeDir && resolve(place.runtimeDir) !== '/') args.push('--tmpfs', resolve(place.runtimeDir));
  // After the tmpfs mounts, which would hide them when they are under /tmp (bwrap makes the mount
  // points). The home and the programs stay read-only like the rest of the system, also when
  // they live in /tmp (a checkout of Blast in /tmp, a CI workspace).
  const hidden = ['/tmp/', '/var/tmp/', '/dev/shm/'];
  if (place.runtimeDir && resolve(place.runtimeDir) !== '/') hidden.push(`${resolve(place.runtimeDir)}/`);
  const isHidden = (path: string) => hidden.some((prefix) => `${resolve(path)}/`.startsWith(prefix));
  const readable = [...place.readable];
  for (const path of [...(place.home ? [place.home] : []), ...(place.programs ?? [])])
    if (isHidden(path)) readable.push(path);
  for (const path of readable) args.push('--ro-bind-try', resolve(path), resolve(path));
  const project = projectDir(place.cwd, place.home);
  // Parents first: a later bind of a parent would hide an earlier one of its child.
  const writable = [resolve(place.envPath), ...(project ? [project] : [])].sort(
    (a, b) => a.length - b.length,
  );
  for (const path of writable) args.push('--bind', path, path);
  // The cwd may be a directory that is not writable (the home): start there all the same.
  args.push('--chdir', resolve(place.cwd));
  return args;
}
