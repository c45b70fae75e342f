/**
 * Helpers for the daemon's tests: a sandbox with a private runtime dir, real bash shells that use
 * the real `blast` shell function, the daemon's client, and cleanup of every daemon a test left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blast, linkPlugin, REPO, sandbox, type Sandbox } from '../../../test/support/cli.js';
import { alive, request } from '../src/client.js';
import type { DaemonStatus, Status } from '../src/control.js';
import { daemonPlaces, envPlaces, type DaemonPlaces, type EnvPlaces } from '../src/places.js';
import { envStateDir, runtimeDir, stateDir } from '../../../test/support/core.js';

export const PLUGIN = join(REPO, 'plugins', 'daemon');

export interface Box extends Sandbox {
  runDir: string;
}

/** A sandbox (its runtime dir private, as every sandbox's is) with the daemon plugin loaded. */
export function daemonBox(extra: Record<string, string> = {}): Box {
  const box = sandbox(extra);
  const xdgRuntime = box.env.XDG_RUNTIME_DIR!; // the sandbox's own
  const root = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    oclif: { plugins: string[] };
  };
  // Until the core lists the plugin, load it the way a user would add it.
  if (!root.oclif.plugins.includes('@blast/daemon')) linkPlugin(box, PLUGIN);
  return { ...box, runDir: join(xdgRuntime, 'blast') };
}

/** The daemon's files (shared by every environment) and one environment's, as the core's ctx gives them. */
export type DaemonPaths = DaemonPlaces & EnvPlaces & { envPath: string };

/** The daemon's and one environment's files, from the core's own path rules (what ctx carries). */
export function daemonPaths(envPath: string, env: Record<string, string | undefined>): DaemonPaths {
  const daemon = daemonPlaces({ stateDir: stateDir(env), runtimeDir: runtimeDir(env) });
  return { ...daemon, ...envPlaces(envPath, envStateDir(envPath, env)), envPath };
}

export function pathsOf(box: Box, envName: string): DaemonPaths {
  return daemonPaths(join(box.blastHome, 'envs', envName), box.env);
}

/** The daemon's command line, as the hooks start it (for tests that run it by hand). */
export function daemonArgs(
  env: Record<string, string | undefined>,
  envs: Array<{ path: string; pids: number[] }>,
): string[] {
  return [
    join(PLUGIN, 'dist', 'daemon', 'main.js'),
    '--state-dir',
    stateDir(env),
    '--runtime-dir',
    runtimeDir(env),
    ...envs.flatMap((e) => [
      '--env',
      e.path,
      '--env-state',
      envStateDir(e.path, env),
      ...e.pids.flatMap((pid) => ['--attach', String(pid)]),
    ]),
  ];
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The daemon's status for one environment (it serves it). */
export function status(paths: DaemonPaths): Promise<Status> {
  return request<Status>(paths.socket, 'status', { env: paths.envPath }, 2000);
}

/** The daemon's status as a whole: every environment it serves. */
export function daemonStatus(paths: DaemonPlaces): Promise<DaemonStatus> {
  return request<DaemonStatus>(paths.socket, 'status', {}, 2000);
}

/**
 * Pids of running daemon processes of this sandbox's Blast home (from /proc): the per-user daemon
 * (`--state-dir` under the box), or a per-environment daemon of an older Blast (an env path under it).
 */
export function daemonProcesses(box: Pick<Sandbox, 'root'>): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // zombies are gone for our purposes
      if (argv.some((a) => a.endsWith('daemon/main.js')) && argv.some((a) => a.startsWith(box.root)))
        pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Every daemon process of this sandbox (its env paths are under its root). */
export function killDaemons(box: Sandbox): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('daemon/main.js')) && argv.some((a) => a.startsWith(box.root)))
        process.kill(Number(entry), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

export interface Shell {
  proc: ChildProcess;
  pid: number;
  dir: string;
  /** Resolves with the file's content once the shell wrote it. */
  read(name: string, timeoutMs?: number): Promise<string>;
  /** Creates `name` in the shell's dir: the shell waits for `go-kill` before `blast kill`. */
  signal(name: string): void;
  stop(): void;
}

let shells = 0;

/**
 * A real bash that loads `blast init bash`, runs `blast start <env>` through the function, records
 * BLAST_SOCKET, then waits for `go-kill`, runs `blast kill`, and stays alive until stopped.
 */
export async function shellStart(box: Box, envName: string): Promise<Shell> {
  const dir = join(box.root, `shell-${++shells}`);
  mkdirSync(dir);
  const script = `
    eval "$(node ${JSON.stringify(join(REPO, 'bin', 'run.js'))} init bash)"
    blast start ${envName} 2>"$D/start.err"; echo $? >"$D/start.rc"
    printf '%s' "\${BLAST_SOCKET-unset}" >"$D/socket"; printf '%s' "$VIRTUAL_ENV" >"$D/venv"
    echo ready >"$D/ready"
    while [ ! -e "$D/go-kill" ]; do sleep 0.05; done
    blast kill 2>"$D/kill.err"; echo $? >"$D/kill.rc"
    printf '%s' "\${BLAST_SOCKET-unset}" >"$D/socket-after"
    echo done >"$D/done"
    while :; do sleep 1; done
  `;
  const proc = spawn('bash', ['--norc', '--noprofile', '-c', script], {
    env: { ...box.env, D: dir },
    stdio: 'ignore',
  });
  const shell: Shell = {
    proc,
    pid: proc.pid!,
    dir,
    read: (name, timeoutMs = 60_000) =>
      waitFor(
        `${name} from shell ${proc.pid}`,
        () => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined),
        timeoutMs,
      ),
    signal: (name) => writeFileSync(join(dir, name), ''),
    stop: () => {
      if (alive(proc.pid!)) proc.kill('SIGKILL');
    },
  };
  return shell;
}

/**
 * shellStart, then wait until its `blast start` is done and require it succeeded; the shell is
 * added to `shells` so the test's afterEach stops it.
 */
export async function startedShell(box: Box, shells: Shell[], envName = 'demo'): Promise<Shell> {
  const shell = await shellStart(box, envName);
  shells.push(shell);
  await shell.read('ready');
  const rc = await shell.read('start.rc');
  if (rc !== '0\n')
    throw new Error(`blast start ${envName} failed (${rc.trim()}): ${await shell.read('start.err')}`);
  return shell;
}

/**
 * The state database's documents as they are on disk, read without nedb (whose load rewrites the
 * file): one JSON document per line, a later line for the same _id replacing the earlier one.
 */
export function readDb(paths: DaemonPaths): Map<string, Record<string, unknown>> {
  const docs = new Map<string, Record<string, unknown>>();
  for (const line of readFileSync(paths.db, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line) as Record<string, unknown>;
    if (typeof doc._id !== 'string') continue;
    if (doc.$$deleted) docs.delete(doc._id);
    else docs.set(doc._id, doc);
  }
  return docs;
}

/** A bare environment the daemon can watch (no Python in it): pyvenv.cfg, site-packages, bin/. */
export function bareEnv(dir: string): string {
  mkdirSync(join(dir, 'lib', 'python3.12', 'site-packages'), { recursive: true });
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'pyvenv.cfg'), 'home = /usr/bin\n');
  return dir;
}

/** The environment's site-packages (lib/pythonX.Y/site-packages). */
export function sitePackages(envPath: string): string {
  const lib = join(envPath, 'lib');
  const [python] = readdirSync(lib).filter((n) => n.startsWith('python'));
  return join(lib, python!, 'site-packages');
}

/** What pip leaves for a distribution the daemon reads: a dist-info with METADATA and RECORD. */
export function install(site: string, name: string, version: string): void {
  const dir = join(site, `${name}-${version}.dist-info`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'METADATA'),
    `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\nA test package.\n`,
  );
  writeFileSync(join(dir, 'RECORD'), '');
}

export function uninstall(site: string, name: string, version: string): void {
  rmSync(join(site, `${name}-${version}.dist-info`), { recursive: true });
}

export { blast };
