/**
 * The one place every pip process Blast starts goes through (the shim's transactions, `load
 * --lock`, the plugins' dry runs and `pip check` through InstallEvent.pip): it runs
 * `<env>/bin/python -m pip ARGS` under whatever a plugin wraps it in (the `wrap` event, purpose
 * `install`). The core stays sandbox-agnostic: it only says what pip needs — the environment and
 * pip's cache to write, the paths named on pip's command line, pip's configuration and the base
 * interpreter to read — and the plugin that wraps decides what that means.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { EnvInfo, WrapEvent } from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import { exitStatus } from '../cli/exit-status.js';

/** What starts a process instead of the original command line (the core's `wrapProcess`). */
export type PipWrap = (
  event: Omit<WrapEvent, 'ctx'>,
) => Promise<{ command: string; args: string[]; env: Record<string, string> }>;

export interface PipLaunch {
  /** The environment pip runs in (its settings decide the wrapper). */
  info: EnvInfo;
  args: readonly string[];
  /** pip's variables. */
  env: Env;
  /** Without it pip runs as is (tests and benches that run no plugins). */
  wrap?: PipWrap;
  cwd?: string;
  /** What the interpreter runs instead of `-m pip` (the driver: `-c PROGRAM`); pip's args follow. */
  program?: readonly string[];
}

export interface PipOutput {
  status: number;
  stdout: string;
  stderr: string;
}

/** Options that name a file or directory pip writes into. */
const WRITTEN_OPTIONS = new Set([
  '--report',
  '--log',
  '--log-file',
  '--src',
  '-t',
  '--target',
  '--root',
  '--prefix',
  '-d',
  '--dest',
]);
/** Options that name a file or directory pip reads (`-r req.txt`, `-e ./proj`, `-f ./wheels`), or writes. */
const PATH_OPTIONS = new Set([
  '-r',
  '--requirement',
  '-c',
  '--constraint',
  '-e',
  '--editable',
  '-f',
  '--find-links',
  ...WRITTEN_OPTIONS,
]);
const REQUIREMENT_FILES = new Set(['-r', '--requirement', '-c', '--constraint']);
/** Options and variables naming one file pip writes (a log, a report), not a directory. */
const WRITTEN_FILES = new Set(['--report', '--log', '--log-file', 'PIP_LOG', 'PIP_LOG_FILE', 'PIP_REPORT']);

/**
 * A file pip will write, made now (empty) when missing so that the file alone is exposed to a
 * wrapper, not its whole directory: a log beside the home (or above it) still reaches the user,
 * and nothing else there becomes writable. Undefined when its directory does not exist.
 */
function writtenFile(path: string): string | undefined {
  if (existsSync(path)) return path;
  if (!existsSync(dirname(path))) return undefined;
  try {
    closeSync(openSync(path, 'a', 0o600));
    return path;
  } catch {
    return undefined; // pip will say why it cannot write it
  }
}

function isProject(dir: string): boolean {
  return existsSync(join(dir, 'pyproject.toml')) || existsSync(join(dir, 'setup.py'));
}

/** A token as a local path, when it is one that exists (`./x`, `/abs`, `file:///abs`, `x.whl`). */
function localPath(token: string, base: string): string | undefined {
  // `name @ file:///…` (PEP 508 direct reference).
  let text = token.replace(/^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@\s*/, '');
  if (text.startsWith('file://')) {
    try {
      text = decodeURIComponent(new URL(text).pathname);
    } catch {
      return undefined;
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return undefined;
  text = text.replace(/\[[^\]]*\]$/, ''); // `./proj[extra]`
  if (text === '' || text.includes('\0')) return undefined;
  const path = isAbsolute(text) ? text : resolve(base, text);
  return existsSync(path) ? path : undefined;
}

export interface PipPaths {
  /** Files and directories pip reads. */
  readable: string[];
  /** Directories pip (or a build in them) writes: local projects, --target, --report's dir. */
  writable: string[];
}

/**
 * The paths pip's command line names, with those the requirement files it names name in turn
 * (a line's first word, `-r`/`-c`/`-e` inside them; relative to the file for nested files, to the
 * current directory for the rest, as pip reads them).
 */
export function pipPaths(args: readonly string[], cwd: string): PipPaths {
  const readable = new Set<string>();
  const writable = new Set<string>();
  const seenFiles = new Set<string>();
  const visitFile = (file: string, depth: number) => {
    if (seenFiles.has(file) || depth > 8) return;
    seenFiles.add(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/(^|\s)#.*$/, '').trim();
      if (line === '') continue;
      const words = line.split(/\s+/);
      const [first, second] = words;
      const opt = first!.includes('=') ? first!.slice(0, first!.indexOf('=')) : first!;
      const value = first!.includes('=') ? first!.slice(first!.indexOf('=') + 1) : second;
      if (REQUIREMENT_FILES.has(opt) && value) {
        const nested = localPath(value, dirname(file));
        if (nested) {
          readable.add(nested);
          visitFile(nested, depth + 1);
        }
      } else if (PATH_OPTIONS.has(opt) && value) take(value, cwd, opt);
      else if (!first!.startsWith('-')) take(first!, cwd, undefined);
      for (const word of words.slice(1)) if (word.startsWith('file://')) take(word, cwd, undefined);
    }
  };
  const take = (token: string, base: string, option: string | undefined) => {
    if (token === '-') return; // stdin or stdout (`--report -`)
    const path = localPath(token, base);
    if (!path) {
      // Something pip creates: its directory must be there to write into.
      if (option && WRITTEN_OPTIONS.has(option)) {
        const target = isAbsolute(token) ? token : resolve(base, token);
        const file = WRITTEN_FILES.has(option) ? writtenFile(target) : undefined;
        if (file) writable.add(file);
        else if (existsSync(dirname(target))) writable.add(dirname(target));
      }
      return;
    }
    const dir = statSync(path).isDirectory();
    if (option && WRITTEN_OPTIONS.has(option))
      writable.add(dir || WRITTEN_FILES.has(option) ? path : dirname(path));
    else if (dir && (option === '-e' || option === '--editable' || option === undefined) && isProject(path))
      writable.add(path); // a build writes into the project (build/, *.egg-info), an editable one too
    else readable.add(path);
    if (option && REQUIREMENT_FILES.has(option)) visitFile(path, 0);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') continue;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0 && PATH_OPTIONS.has(arg.slice(0, eq))) take(arg.slice(eq + 1), cwd, arg.slice(0, eq));
    else if (PATH_OPTIONS.has(arg) && i + 1 < args.length) take(args[++i]!, cwd, arg);
    else if (/^-[rcef]./.test(arg)) take(arg.slice(2), cwd, arg.slice(0, 2));
    else if (!arg.startsWith('-')) take(arg, cwd, undefined);
  }
  return { readable: [...readable], writable: [...writable] };
}

/** pip's cache, as pip finds it without a configuration file; undefined when it is off. */
export function pipCacheDir(env: Env): string | undefined {
  const off = env.PIP_NO_CACHE_DIR;
  if (off !== undefined && !['', '0', 'false', 'no', 'off'].includes(off.toLowerCase())) return undefined;
  if (env.PIP_CACHE_DIR) return resolve(env.PIP_CACHE_DIR);
  const home = env.HOME || homedir();
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'pip');
}

/** pip's configuration files that exist (user and site ones; the system's stay visible anyway). */
export function pipConfigFiles(env: Env, envPath: string): string[] {
  const home = env.HOME || homedir();
  const configHome = env.XDG_CONFIG_HOME || join(home, '.config');
  const candidates = [
    ...(env.PIP_CONFIG_FILE && env.PIP_CONFIG_FILE !== '/dev/null' ? [env.PIP_CONFIG_FILE] : []),
    join(configHome, 'pip', 'pip.conf'),
    join(home, '.pip', 'pip.conf'),
    join(envPath, 'pip.conf'),
  ];
  return candidates.filter((f) => existsSync(f)).map((f) => resolve(f));
}

/**
 * The base interpreter's installation the environment's python links to (pyvenv.cfg's `home` is
 * its bin/): read wherever it lives, a pyenv under the home included.
 */
function interpreterPrefix(envPath: string): string[] {
  const out: string[] = [];
  try {
    const cfg = readFileSync(join(envPath, 'pyvenv.cfg'), 'utf8');
    const home = /^home\s*=\s*(.+)$/m.exec(cfg)?.[1]?.trim();
    if (home) out.push(dirname(resolve(home)));
  } catch {
    // no pyvenv.cfg: pip fails on its own
  }
  try {
    out.push(dirname(dirname(realpathSync(join(envPath, 'bin', 'python')))));
  } catch {
    // a broken link: pip fails on its own
  }
  return [...new Set(out)].filter((p) => p !== '/');
}

/** PIP_* variables whose values pip writes into (the rest that name paths are read). */
const WRITTEN_VARIABLES = new Set([
  'PIP_TARGET',
  'PIP_SRC',
  'PIP_ROOT',
  'PIP_PREFIX',
  'PIP_LOG',
  'PIP_LOG_FILE',
]);

/**
 * Paths pip's configuration names outside the command line: PIP_* variables (PIP_CONSTRAINT, which
 * the resolver plugin points at the environment's constraints; PIP_FIND_LINKS; a file:// index)
 * and the values in pip's configuration files — every word that is an absolute path or a file://
 * URL that exists.
 */
export function configuredPaths(env: Env, configFiles: readonly string[]): PipPaths {
  const readable = new Set<string>();
  const writable = new Set<string>();
  const words = (text: string, into: Set<string>, name?: string) => {
    if (into === writable && name && WRITTEN_FILES.has(name) && text.trim().startsWith('/')) {
      const file = writtenFile(text.trim());
      if (file) into.add(file);
      return;
    }
    // pip splits a list on whitespace; a single value may be a path with spaces.
    for (const word of new Set([text.trim(), ...text.split(/\s+/)])) {
      if (!word.startsWith('/') && !word.startsWith('file://')) continue;
      const path = localPath(word, '/');
      if (path) into.add(path);
      else if (into === writable && word === text.trim() && existsSync(dirname(word)))
        into.add(dirname(word));
    }
  };
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PIP_') || !value || name === 'PIP_CONFIG_FILE' || name === 'PIP_CACHE_DIR')
      continue;
    words(value, WRITTEN_VARIABLES.has(name) ? writable : readable, name);
  }
  for (const file of configFiles) {
    try {
      for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
        const at = line.indexOf('=');
        if (at > 0 && !/^\s*[#;]/.test(line)) words(line.slice(at + 1), readable);
      }
    } catch {
      // unreadable: pip will say so
    }
  }
  return { readable: [...readable], writable: [...writable] };
}

/** The wrap event of one pip process: what it must write and read, wherever it runs. */
export function pipWrapEvent(launch: PipLaunch): Omit<WrapEvent, 'ctx'> {
  const envPath = resolve(launch.info.path);
  const cwd = launch.cwd ?? process.cwd();
  const named = pipPaths(launch.args, cwd);
  const cache = pipCacheDir(launch.env);
  const configFiles = pipConfigFiles(launch.env, envPath);
  const configured = configuredPaths(launch.env, configFiles);
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(launch.env)) if (v !== undefined) environment[k] = v;
  return {
    env: launch.info,
    purpose: 'install',
    command: join(envPath, 'bin', 'python'),
    args: [...(launch.program ?? ['-m', 'pip']), ...launch.args],
    cwd,
    environment,
    readable: [...named.readable, ...configured.readable, ...configFiles, ...interpreterPrefix(envPath)],
    writable: [envPath, ...(cache ? [cache] : []), ...named.writable, ...configured.writable],
    ...(cache ? { pipCache: cache } : {}),
  };
}

/** The command line that runs pip, wrapped when a plugin wraps it. */
export async function pipInvocation(
  launch: PipLaunch,
): Promise<{ command: string; args: string[]; env: Env; cwd: string }> {
  const event = pipWrapEvent(launch);
  if (!launch.wrap) return { command: event.command, args: event.args, env: launch.env, cwd: event.cwd };
  // pip creates its cache on first use; a wrapper that binds it needs it to exist.
  if (event.pipCache) mkdirSync(event.pipCache, { recursive: true, mode: 0o700 });
  const wrapped = await launch.wrap(event);
  return {
    command: wrapped.command,
    args: wrapped.args,
    env: { ...launch.env, ...wrapped.env },
    cwd: event.cwd,
  };
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** pip with the terminal untouched; resolves to its exit status. Ctrl-C goes to pip; Blast lives on to roll back. */
export async function runPipInherit(launch: PipLaunch, onSpawn?: (pid: number) => void): Promise<number> {
  const run = await pipInvocation(launch);
  const child = spawn(run.command, run.args, {
    stdio: 'inherit',
    env: run.env as NodeJS.ProcessEnv,
    cwd: run.cwd,
  });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  const ignore = () => {};
  for (const s of SIGNALS) process.on(s, ignore);
  try {
    return await new Promise<number>((done, fail) => {
      child.on('error', fail);
      child.on('exit', (code, signal) => done(exitStatus(code, signal)));
    });
  } finally {
    for (const s of SIGNALS) process.off(s, ignore);
  }
}

export interface CaptureOptions {
  input?: string;
  onLine?: (line: string) => void;
  onSpawn?: (pid: number) => void;
  /** Ctrl-C and friends go to the child only: Blast must live on to roll back (pip in a transaction). */
  outliveSignals?: boolean;
}

/** pip with its output captured (each line also given to `onLine`). */
export async function runPipCapture(launch: PipLaunch, options: CaptureOptions = {}): Promise<PipOutput> {
  const run = await pipInvocation(launch);
  return captureProcess(run.command, run.args, { ...options, env: run.env, cwd: run.cwd });
}

/**
 * Any child with stdin `input` and its output captured, each line of it also given to `onLine`: the
 * one capture behind pip's and the environment's Python's (the task list owns the terminal).
 */
export function captureProcess(
  command: string,
  args: readonly string[],
  options: CaptureOptions & { env?: Env; cwd?: string } = {},
): Promise<PipOutput> {
  const child = spawn(command, [...args], {
    env: (options.env ?? process.env) as NodeJS.ProcessEnv,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const lines = (chunk: string) => {
    if (!options.onLine) return;
    const all = (partial + chunk).split(/\r?\n/);
    partial = all.pop() ?? '';
    for (const l of all) if (l.trim()) options.onLine(l.trim());
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    lines(c);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    lines(c);
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  child.stdin.on('error', () => {}); // the child may exit before reading it
  child.stdin.end(options.input ?? '');
  const ignore = () => {};
  const signals = options.outliveSignals ? SIGNALS : [];
  for (const s of signals) process.on(s, ignore);
  return new Promise<PipOutput>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => done({ status: exitStatus(code, signal), stdout, stderr }));
  }).finally(() => {
    for (const s of signals) process.off(s, ignore);
  });
}

/** An environment known only by its path: pip run for it by a caller that has no EnvInfo. */
export function bareEnvInfo(envPath: string): EnvInfo {
  return {
    name: envPath,
    path: envPath,
    kind: 'local',
    python: { executable: join(envPath, 'bin', 'python'), version: '', implementation: '' },
    settings: {},
  };
}
