/**
 * Running the real CLI (`bin/run.js`, the built dist) as a user would, in an isolated home:
 * BLAST_HOME, XDG dirs and HOME are private temp dirs; the interpreter-facts and pip-seed cache
 * is shared across tests (BLAST_CACHE_DIR) so each test does not pay for building it.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'bin', 'run.js');
export const SHARED_CACHE = join(tmpdir(), `blast-test-cache-${process.getuid?.() ?? 0}`);

export interface Sandbox {
  root: string;
  home: string;
  blastHome: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** A private home for one test; `extra` adds or overrides variables. */
export function sandbox(extra: Record<string, string> = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'blast test ')); // a space on purpose: paths are values too
  const home = join(root, 'home');
  const blastHome = join(root, 'blast home');
  mkdirSync(home, { recursive: true });
  mkdirSync(SHARED_CACHE, { recursive: true });
  // The per-user daemon's socket lives in the runtime dir: a private one per sandbox keeps each
  // test's daemon its own, whatever runs beside it (mocha --parallel).
  const runtime = join(root, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const k of Object.keys(env))
    if (k.startsWith('BLAST_') || k === 'VIRTUAL_ENV' || k === 'VIRTUAL_ENV_PROMPT') delete env[k];
  Object.assign(env, {
    HOME: home,
    BLAST_HOME: blastHome,
    BLAST_CACHE_DIR: SHARED_CACHE,
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: runtime,
    NO_COLOR: '1',
    ...extra,
  });
  const cleanup = () => {
    killProcessesOf(blastHome);
    // A process killed a moment ago may have had a write in flight: retry a non-empty rmdir.
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  };
  return { root, home, blastHome, env, cleanup };
}

/**
 * The daemons a sandbox's `blast start`s left running (attached to the test runner, which outlives
 * the test) and what they spawned: every process whose environment has this BLAST_HOME. Killed
 * before the sandbox goes, so none writes into a directory being removed.
 */
function killProcessesOf(blastHome: string): void {
  const needle = Buffer.from(`\0BLAST_HOME=${blastHome}\0`);
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from('\0'), readFileSync(`/proc/${pid}/environ`)]);
      if (environ.includes(needle)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}

export interface Run extends Pick<SpawnSyncReturns<string>, 'stdout' | 'stderr'> {
  status: number;
}

export function blast(
  box: Sandbox,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string } = {},
): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...box.env, ...options.env },
    cwd: options.cwd ?? box.home,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  return { stdout: result.stdout, stderr: result.stderr, status: result.status ?? 128 };
}

/** Run a command the way the `blast` shell function does; returns the shell code it handed over. */
export function throughFunction(
  box: Sandbox,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; shell?: string } = {},
): Run & { script: string } {
  const file = join(box.root, `script-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, '', { mode: 0o600 });
  const run = blast(box, args, {
    ...options,
    // As the function does: the shell is the process that runs the CLI (here, the test runner).
    env: {
      BLAST_SHELL: options.shell ?? 'bash',
      BLAST_SHELL_SCRIPT: file,
      BLAST_SHELL_PID: String(process.pid),
      ...options.env,
    },
  });
  const script = readFileSync(file, 'utf8');
  rmSync(file);
  return { ...run, script };
}

/** Link a test plugin the way a user would, without npm installing anything. */
export function linkPlugin(box: Sandbox, dir: string): void {
  const run = blast(box, ['plugins', 'link', '--no-install', dir]);
  if (run.status !== 0) throw new Error(`plugins link ${dir} failed: ${run.stderr}`);
}

export const FIXTURES = join(REPO, 'test', 'fixtures', 'plugins');

/**
 * Create an environment and leave it again, as a user would (`blast start NAME`, then `blast
 * kill` in the same "shell"): its daemon stops, no shell has it active, so `blast clean NAME` may
 * delete it.
 */
export function createAndLeave(box: Sandbox, name: string): void {
  const started = throughFunction(box, ['start', name]);
  if (started.status !== 0) throw new Error(`start ${name} failed: ${started.stderr}`);
  const state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(started.script)?.[1];
  if (!state) throw new Error(`start ${name} set no BLAST_SHELL_STATE`);
  const killed = throughFunction(box, ['kill'], { env: { BLAST_SHELL_STATE: state } });
  if (killed.status !== 0) throw new Error(`kill of ${name} failed: ${killed.stderr}`);
}
