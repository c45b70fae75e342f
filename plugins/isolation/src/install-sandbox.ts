/**
 * The install sandbox: every pip Blast runs (the `wrap` event, purpose `install`) inside
 * bubblewrap, because installing runs the package's code — an sdist's build backend, a wheel's
 * `.pth` file at the next interpreter start (pip's own `pip check` starts one).
 *
 * Inside: the system read-only; the user's home a private, empty, read-only tmpfs into which only
 * pip's cache (writable) and pip's configuration (read-only) are bound; Blast's home (the store,
 * the other named environments) hidden; a private /tmp, /var/tmp and /dev/shm; the user's runtime
 * dir and /run/user hidden (agents' and the session bus's sockets); writable only the environment
 * being changed, pip's cache, and what the command line names for pip to write into (a local
 * project being built). The network stays: pip needs its index. Blast's own writes (the snapshot,
 * the revision, a rollback) happen outside, in the Blast process around pip.
 *
 * Setting `install-sandbox=on|off` (per environment), overridden for one command by
 * BLAST_INSTALL_SANDBOX=on|off. Unset: on where bubblewrap and user namespaces work; where they do
 * not, one notice (once per machine, remembered in the cache) and pip runs as it would without.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BlastContext, EnvInfo, ProcessWrapper, SettingSpec, Settings, WrapEvent } from 'blast/contract';
import { bwrapBase, projectDir } from './sandbox.js';
import { findExecutable } from './which.js';

export const INSTALL_VARIABLE = 'BLAST_INSTALL_SANDBOX';
export const INSTALL_SETTING = 'install-sandbox';

export const INSTALL_SETTING_SPEC: SettingSpec = {
  name: INSTALL_SETTING,
  description:
    "Run every pip Blast runs here (installs, builds, load --lock, the impact dry run) in bubblewrap: home hidden except pip's cache and config, only the environment writable, no local sockets. Default: on where bubblewrap works. BLAST_INSTALL_SANDBOX=off|on overrides it for one command.",
  type: 'string',
  options: ['on', 'off'],
  helpValue: 'on|off',
};

export type InstallMode = { on: boolean; explicit: boolean; from: 'variable' | 'setting' | 'default' };

/** What the environment's setting and BLAST_INSTALL_SANDBOX say; throws on a value that is neither. */
export function installMode(
  settings: Settings,
  env: Readonly<Record<string, string | undefined>>,
): InstallMode {
  const variable = env[INSTALL_VARIABLE];
  if (variable !== undefined && variable !== '') {
    const v = variable.toLowerCase();
    if (['on', '1', 'yes', 'true'].includes(v)) return { on: true, explicit: true, from: 'variable' };
    if (['off', '0', 'no', 'false'].includes(v)) return { on: false, explicit: true, from: 'variable' };
    throw new Error(`${INSTALL_VARIABLE}=${JSON.stringify(variable)} is neither on nor off.`);
  }
  const setting = settings[INSTALL_SETTING];
  if (setting === 'on') return { on: true, explicit: true, from: 'setting' };
  if (setting === 'off') return { on: false, explicit: true, from: 'setting' };
  if (setting !== undefined) {
    throw new Error(
      `the stored ${INSTALL_SETTING} ${JSON.stringify(setting)} is neither on nor off; fix it with \`blast config ${INSTALL_SETTING}=on\`.`,
    );
  }
  return { on: true, explicit: false, from: 'default' };
}

export interface Probe {
  ok: boolean;
  bwrap?: string;
  /** Why not, for the user, with the way to get it. */
  why?: string;
}

interface ProbeCache extends Probe {
  key: string;
  /** The one notice where installs cannot be sandboxed was shown. */
  noticed?: boolean;
}

function readQuiet(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '-';
  }
}

/**
 * What the answer depends on: bwrap (path and mtime), the kernel, the user, the sysctls that turn
 * unprivileged user namespaces off. Reading them costs a few stat()s; the probe is a process.
 */
function probeKey(bwrap: string | undefined): string {
  let mtime = 0;
  try {
    if (bwrap) mtime = statSync(bwrap).mtimeMs;
  } catch {
    // gone: the key changes anyway
  }
  const sysctls = [
    '/proc/sys/kernel/unprivileged_userns_clone',
    '/proc/sys/user/max_user_namespaces',
    '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
  ].map(readQuiet);
  return JSON.stringify([bwrap ?? null, mtime, release(), process.getuid?.() ?? -1, sysctls]);
}

/** One file per answer's key: machines (and tests) with two PATHs do not overwrite each other's. */
function cacheFile(ctx: BlastContext, key: string): string {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return join(ctx.cacheDir, 'isolation', `install-sandbox-${id}.json`);
}

function readCache(ctx: BlastContext, key: string): ProbeCache | undefined {
  try {
    return JSON.parse(readFileSync(cacheFile(ctx, key), 'utf8')) as ProbeCache;
  } catch {
    return undefined;
  }
}

function writeCache(ctx: BlastContext, value: ProbeCache): void {
  try {
    const file = cacheFile(ctx, value.key);
    mkdirSync(join(ctx.cacheDir, 'isolation'), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(value), { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    // a cache: the next command probes again
  }
}

/** Whether installs can be sandboxed here: probed once (a bwrap that starts `true`), then cached. */
export function probeInstallSandbox(ctx: BlastContext): Probe & { key: string; noticed?: boolean } {
  const bwrap = findExecutable('bwrap', ctx.env as NodeJS.ProcessEnv);
  const key = probeKey(bwrap);
  const cached = readCache(ctx, key);
  if (cached && cached.key === key) return cached;
  let probe: Probe;
  if (!bwrap) {
    probe = {
      ok: false,
      why: 'bubblewrap (bwrap) is not on PATH; install it: apt-get install bubblewrap (Debian/Ubuntu), dnf install bubblewrap (Fedora)',
    };
  } else {
    const run = spawnSync(
      bwrap,
      ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--ro-bind', '/', '/', '--tmpfs', '/tmp', 'true'],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    probe =
      run.status === 0
        ? { ok: true, bwrap }
        : {
            ok: false,
            bwrap,
            why: `bubblewrap cannot create a user namespace here (${(run.stderr || run.error?.message || `exit ${run.status}`).trim()}); enable them: sysctl -w kernel.unprivileged_userns_clone=1 (Debian), sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04)`,
          };
  }
  writeCache(ctx, { ...probe, key });
  return { ...probe, key };
}

/** The notice where installs cannot be sandboxed, once per machine (remembered with the probe). */
function noticeOnce(ctx: BlastContext, probe: Probe & { key: string }): void {
  const cached = readCache(ctx, probe.key);
  if (cached?.noticed) return;
  process.stderr.write(
    `blast: note: pip's builds and installs are not sandboxed on this machine: ${probe.why}. (Shown once; \`blast check\` says it again.)\n`,
  );
  if (cached) writeCache(ctx, { ...cached, noticed: true });
}

/** What one sandboxed pip was shown, for telling afterwards whether the sandbox stopped it. */
export interface SandboxedRun {
  log: string;
  dir: string;
  /** Places hidden inside (the home, Blast's home, the runtime dirs). */
  hidden: string[];
  /** Places visible inside (read-only or writable) under the hidden ones. */
  exposed: string[];
  writable: string[];
}

/** The sandboxed pips of this process, by environment: postInstall reads and forgets them. */
const runs = new Map<string, SandboxedRun[]>();
let cleanupInstalled = false;

export function takeRuns(envPath: string): SandboxedRun[] {
  const list = runs.get(resolve(envPath)) ?? [];
  runs.delete(resolve(envPath));
  return list;
}

export function forget(run: SandboxedRun): void {
  rmSync(run.dir, { recursive: true, force: true });
}

function under(path: string, dir: string): boolean {
  const d = resolve(dir);
  const p = resolve(path);
  return p === d || p.startsWith(d === '/' ? '/' : `${d}/`);
}

export interface InstallPlace {
  cwd: string;
  home: string | undefined;
  /** Blast's home (store, named environments, registry): hidden. */
  blastHome: string;
  /** XDG_RUNTIME_DIR and Blast's runtime dir: hidden. */
  runtimeDirs: string[];
  readable: string[];
  writable: string[];
  /** A directory for pip's log, bound writable (outside under the system temp dir). */
  logDir?: string;
  /** Whether /run/user exists (hidden when it does). */
  runUser: boolean;
}

/** bwrap's arguments up to (not including) the command. */
export function installBwrapArgs(place: InstallPlace): {
  args: string[];
  hidden: string[];
  exposed: string[];
} {
  // Not --die-with-parent: as without the sandbox, pip outlives a Blast killed while it runs, and
  // the next command waits for it (the journal records bwrap's pid, whose environment has
  // BLAST_TRANSACTION) before it undoes the change.
  const args = bwrapBase();
  const hidden: string[] = [];
  const hide = (dir: string | undefined, always = false) => {
    if (!dir) return;
    const d = resolve(dir);
    if (d === '/' || hidden.includes(d) || (!always && hidden.some((h) => under(d, h)))) return;
    hidden.push(d);
  };
  for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) hide(dir);
  if (place.runUser) hide('/run/user');
  for (const dir of place.runtimeDirs) hide(dir);
  const home = place.home && resolve(place.home) !== '/' ? resolve(place.home) : undefined;
  // Its own mount even under a hidden /tmp: the one that is made read-only below.
  hide(home, true);
  hide(place.blastHome);
  // Binds after the tmpfs mounts (which would hide them), parents first (a later bind of a parent
  // would hide an earlier one of its child); at one path, writable wins.
  const binds: Array<{ path: string; rw: boolean }> = [];
  const isHidden = (path: string) => hidden.some((h) => under(path, h));
  for (const path of place.readable) if (isHidden(path)) binds.push({ path: resolve(path), rw: false });
  const project = projectDir(place.cwd, place.home);
  // The current directory read-only (relative paths in requirement files), unless it is the home
  // or above it.
  if (project && isHidden(project)) binds.push({ path: project, rw: false });
  // Never the home, Blast's home or a folder above them writable: that would be no sandbox (a
  // project in the home is fine).
  const tooWide = (path: string) =>
    resolve(path) === '/' || [home, place.blastHome].some((h) => h !== undefined && under(h, path));
  for (const path of place.writable) if (!tooWide(path)) binds.push({ path: resolve(path), rw: true });
  if (place.logDir) binds.push({ path: resolve(place.logDir), rw: true });
  // Every mount in path order, parents first, whatever its kind: a mount hides what an earlier one
  // put below it, so a bind of a folder that holds the home (a find-links folder, a project) must
  // come before the home's tmpfs, and what is bound into the home after it. At one path, the tmpfs
  // first, then read-only, then writable.
  type Mount = { path: string; kind: 0 | 1 | 2 };
  const mounts: Mount[] = [
    ...hidden.map((path): Mount => ({ path, kind: 0 })),
    ...binds.map(({ path, rw }): Mount => ({ path, kind: rw ? 2 : 1 })),
  ];
  mounts.sort((a, b) => a.path.split('/').length - b.path.split('/').length || a.kind - b.kind);
  const seen = new Set<string>();
  for (const { path, kind } of mounts) {
    const key = `${path}\0${kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (kind === 0) args.push('--tmpfs', path);
    else args.push(kind === 2 ? '--bind-try' : '--ro-bind-try', path, path);
  }
  // The empty home is read-only too (bwrap's remount is not recursive: what is bound in stays as
  // bound): a build cannot leave a file there.
  if (home) args.push('--remount-ro', home);
  // Variables that point at what is hidden would only mislead pip (its temp files) or a build.
  args.push(
    '--setenv',
    'TMPDIR',
    '/tmp',
    '--unsetenv',
    'SSH_AUTH_SOCK',
    '--unsetenv',
    'DBUS_SESSION_BUS_ADDRESS',
  );
  args.push('--chdir', resolve(place.cwd));
  return { args, hidden, exposed: binds.map((b) => b.path) };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wrapper of one pip (undefined: it runs as is). Throws when the sandbox was asked for
 * explicitly and cannot be had.
 */
export function installWrapper(event: WrapEvent & { ctx: BlastContext }): ProcessWrapper | undefined {
  const { ctx } = event;
  const mode = installMode(event.env.settings, ctx.env);
  if (!mode.on) return undefined;
  const probe = probeInstallSandbox(ctx);
  if (!probe.ok || !probe.bwrap) {
    if (!mode.explicit) {
      noticeOnce(ctx, probe);
      return undefined;
    }
    const how =
      mode.from === 'variable'
        ? `${INSTALL_VARIABLE}=on asks for it`
        : `${event.env.name} has ${INSTALL_SETTING}=on`;
    throw new Error(
      `pip cannot run in the install sandbox (${how}): ${probe.why}. Or install without it: ${INSTALL_VARIABLE}=off, or \`blast config --env ${event.env.name} ${INSTALL_SETTING}=off\`.`,
    );
  }
  const env = ctx.env;
  // pip's log (debug level, the build's output included) is how postInstall tells afterwards
  // whether the sandbox stopped the build; not when the user keeps a log of their own.
  const ownLog =
    env.PIP_LOG || env.PIP_LOG_FILE || event.args.some((a) => /^--(log|log-file|local-log)(=|$)/.test(a));
  const dir = ownLog ? undefined : mkdtempSync(join(tmpdir(), 'blast-pip-'));
  const { args, hidden, exposed } = installBwrapArgs({
    cwd: event.cwd,
    home: env.HOME,
    blastHome: ctx.home,
    runtimeDirs: [env.XDG_RUNTIME_DIR, ctx.runtimeDir].filter((d): d is string => !!d),
    readable: event.readable,
    writable: event.writable ?? [event.env.path],
    ...(dir ? { logDir: dir } : {}),
    runUser: exists('/run/user'),
  });
  if (dir) {
    const run: SandboxedRun = {
      log: join(dir, 'pip.log'),
      dir,
      hidden,
      exposed,
      writable: event.writable ?? [],
    };
    const key = resolve(event.env.path);
    runs.set(key, [...(runs.get(key) ?? []), run]);
    if (!cleanupInstalled) {
      cleanupInstalled = true;
      process.on('exit', () => {
        for (const list of runs.values()) for (const r of list) forget(r);
      });
    }
    args.push('--setenv', 'PIP_LOG', run.log);
  }
  return { command: probe.bwrap, args: [...args, '--', event.command, ...event.args] };
}

/** Why the sandbox stopped pip, read from pip's logs of the transaction; undefined when it did not. */
export function sandboxVerdict(list: readonly SandboxedRun[]): string | undefined {
  for (const run of list) {
    let text: string;
    try {
      text = readFileSync(run.log, 'utf8');
    } catch {
      continue;
    }
    const verdict = verdictOf(text, run);
    if (verdict) return verdict;
  }
  return undefined;
}

const ERRNO_PATH = /\[Errno (\d+)\] [^'"\n]*?: (['"])(\/.*?)\2/g;

export function verdictOf(
  text: string,
  run: Pick<SandboxedRun, 'hidden' | 'exposed' | 'writable'>,
): string | undefined {
  const visible = (path: string) => run.exposed.some((e) => under(path, e));
  // Private temp dirs are pip's own; a missing file there is pip's business, not a hidden one.
  const secret = run.hidden.filter((h) => !['/tmp', '/var/tmp', '/dev/shm'].includes(h));
  for (const match of text.matchAll(ERRNO_PATH)) {
    const errno = Number(match[1]);
    const path = match[3]!;
    if (errno === 30 && !run.writable.some((w) => under(path, w)))
      return `it tried to write ${path}, outside what pip may write there (the environment, pip's cache, the project being built)`;
    if ((errno === 2 || errno === 13) && secret.some((h) => under(path, h)) && !visible(path))
      return `it tried to read ${path}, which the sandbox hides (your home, Blast's store and your runtime dir are private there)`;
  }
  // A Unix socket's connect() names no path: a traceback through connect() ending in "not found"
  // or "refused" is a local socket the sandbox hides (the network itself is allowed, and TCP
  // failures read "Connection refused" with Errno 111 through pip's own connection code).
  const socket =
    /\.connect(?:_ex)?\(.*\n(?:.*\n){0,6}?.*(FileNotFoundError|PermissionError): \[Errno (2|13)\] [^:'"\n]+$/m;
  if (socket.test(text))
    return 'it tried to connect to a local socket, which the sandbox hides (your runtime dir, /run/user and /tmp are private there)';
  return undefined;
}

/** A word as POSIX sh reads it back (quoted only when it must be). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The sentence that says the sandbox stopped it, and how to install without it once. */
export function stoppedMessage(
  env: EnvInfo,
  why: string,
  source: string | undefined,
  args: readonly string[],
): string {
  const again =
    source === 'lock'
      ? `${INSTALL_VARIABLE}=off blast load --lock …`
      : `${INSTALL_VARIABLE}=off pip ${args.map(shellWord).join(' ')}`;
  return `the install sandbox stopped it: ${why}. If you trust this package, install it without the sandbox once: \`${again}\` (or for ${env.name}: \`blast config --env ${env.name} ${INSTALL_SETTING}=off\`).`;
}
