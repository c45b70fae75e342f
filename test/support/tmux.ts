/**
 * Driving a real interactive shell in a private tmux server, the way a user meets it: a pty, the
 * shell's own startup files (written by the test into a temp HOME), line editing, the prompt.
 *
 * Commands are typed, but their results never come from scraping the screen: each typed line ends
 * by writing its exit status to a marker file, and snapshots write their data to files. The screen
 * is read only for what only the screen shows: the prompt.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { cleanEnv, parseEnv0, splitNul } from './shells.js';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the harness needs to know about a shell's syntax. */
export interface TmuxDialect {
  /** Startup files created empty when the test gives none (zsh would otherwise run its new-user wizard). */
  rcFiles: string[];
  quote(value: string): string;
  /** Code that writes the previous command's exit status and a newline to `file`. */
  status(file: string): string;
  /** Code that writes a snapshot: `env -0`, the prompt, variable and function names, options, traps. */
  snapshot(files: SnapshotFiles): string;
  /** Characters a typed line must not contain (history expansion would rewrite them). */
  untypeable: RegExp;
  /** Shell variables whose names come and go as a session runs; left out of snapshots. */
  volatile: ReadonlySet<string>;
}

export interface SnapshotFiles {
  env: string;
  prompt: string;
  variables: string;
  functions: string;
  options: string;
  traps: string;
}

const sq = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

export const bashDialect: TmuxDialect = {
  rcFiles: ['.bashrc'],
  quote: sq,
  status: (file) => `printf '%s\\n' "$?" >| ${sq(file)}`,
  snapshot: (f) =>
    [
      `env -0 >| ${sq(f.env)}`,
      `if [ -n "\${PS1+x}" ]; then printf 'set\\0%s' "$PS1"; else printf 'unset\\0'; fi >| ${sq(f.prompt)}`,
      `compgen -v >| ${sq(f.variables)}`,
      `compgen -A function >| ${sq(f.functions)}`,
      `{ set +o; shopt -p; } >| ${sq(f.options)}`,
      `trap -p >| ${sq(f.traps)}`,
    ].join('; '),
  untypeable: /[!\n]/,
  // Set by bash itself as commands run, independent of what the command did.
  volatile: new Set([
    '_',
    'BASH_COMMAND',
    'BASH_LINENO',
    'BASH_REMATCH',
    'COLUMNS',
    'LINES',
    'PIPESTATUS',
    'OLDPWD',
  ]),
};

export const zshDialect: TmuxDialect = {
  rcFiles: ['.zshrc'],
  quote: sq,
  status: (file) => `printf '%s\\n' "$?" >| ${sq(file)}`,
  snapshot: (f) =>
    [
      `env -0 >| ${sq(f.env)}`,
      `if [[ -n \${PS1+x} ]]; then printf 'set\\0%s' "$PS1"; else printf 'unset\\0'; fi >| ${sq(f.prompt)}`,
      `print -rl -- "\${(@ok)parameters[@]}" >| ${sq(f.variables)}`,
      `print -rl -- "\${(@ok)functions[@]}" >| ${sq(f.functions)}`,
      `set +o >| ${sq(f.options)}`,
      `trap >| ${sq(f.traps)}`,
    ].join('; '),
  untypeable: /[!\n]/,
  volatile: new Set(['_', 'OLDPWD']),
};

const DIALECTS: Record<string, TmuxDialect> = { bash: bashDialect, zsh: zshDialect };

/** Exported variables whose values change on their own between two snapshots of one shell. */
export const VOLATILE_ENV: ReadonlySet<string> = new Set(['_', 'OLDPWD']);

export interface Snapshot {
  env: Map<string, string>;
  /** undefined: PS1 is unset. */
  prompt: string | undefined;
  variables: Set<string>;
  functions: Set<string>;
  options: string[];
  traps: string[];
}

export interface TmuxShellOptions {
  /** The program, e.g. `bash`; its dialect is looked up by name unless given. */
  shell: string;
  args?: string[];
  dialect?: TmuxDialect;
  /** Files to create, relative to the temp HOME (rc files, scripts). */
  files?: Record<string, string>;
  /**
   * Variables on top of cleanEnv() (HOME, TMPDIR, TERM are the harness's). A function gets the
   * session's HOME, for values that live under it, and is called after `files` are written.
   */
  env?: Record<string, string> | ((home: string) => Record<string, string>);
  width?: number;
  height?: number;
}

export interface Pending {
  /** Resolves with the typed line's exit status once its marker appears. */
  wait(timeoutMs?: number): Promise<number>;
}

let sessions = 0;

export class TmuxShell {
  private markers = 0;
  private alive = true;

  private constructor(
    readonly root: string,
    readonly home: string,
    /** Where markers and snapshots go; TMPDIR of the shell is `root/tmp`. */
    readonly out: string,
    readonly env: Record<string, string>,
    readonly dialect: TmuxDialect,
    private readonly socket: string,
  ) {}

  static async start(options: TmuxShellOptions): Promise<TmuxShell> {
    const dialect = options.dialect ?? DIALECTS[options.shell];
    if (!dialect) throw new Error(`no tmux dialect for ${options.shell}; pass one`);
    // Short root: a Unix socket path must stay under ~104 bytes.
    const root = mkdtempSync(join(tmpdir(), `bt${process.pid}-${sessions++}-`));
    const home = join(root, 'home');
    const out = join(root, 'out');
    // fish's first start runs fish_update_completions in the background, outliving the shell and
    // writing into HOME while kill() removes it; an existing folder tells fish it already ran.
    const fishCompletions = join(home, '.local', 'share', 'fish', 'generated_completions');
    for (const dir of [home, out, join(root, 'tmp'), fishCompletions]) mkdirSync(dir, { recursive: true });
    for (const rc of dialect.rcFiles) writeFileSync(join(home, rc), '');
    for (const [rel, content] of Object.entries(options.files ?? {})) {
      mkdirSync(dirname(join(home, rel)), { recursive: true });
      writeFileSync(join(home, rel), content);
    }
    const extra = typeof options.env === 'function' ? options.env(home) : options.env;
    const env = cleanEnv({ HOME: home, TMPDIR: join(root, 'tmp'), TERM: 'screen', ...extra });
    const shell = new TmuxShell(root, home, out, env, dialect, join(root, 'tmux.sock'));
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    // env -i: the shell sees exactly `env`, not the test runner's environment nor the server's.
    // It starts in HOME, so a test that proves nothing ran (`touch pwned`) looks in a private place.
    await shell.tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-c',
      home,
      '-x',
      String(options.width ?? 200),
      '-y',
      String(options.height ?? 50),
      'env',
      '-i',
      ...vars,
      options.shell,
      ...(options.args ?? ['-i']),
    );
    // The first command returns only once startup files have run and the line editor reads input.
    await shell.run('true', 20_000);
    return shell;
  }

  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await exec('tmux', ['-S', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
    });
    return stdout;
  }

  /** Type one line and press Enter; `wait()` gives its exit status (written by the shell itself). */
  send(line: string): Pending {
    if (this.dialect.untypeable.test(line))
      throw new Error(`cannot type ${JSON.stringify(line)}: use source()`);
    const marker = join(this.out, `status-${++this.markers}`);
    const typed = this.tmux(
      'send-keys',
      '-t',
      'main',
      '-l',
      '--',
      `${line}; ${this.dialect.status(marker)}`,
    ).then(() => this.tmux('send-keys', '-t', 'main', 'Enter'));
    return { wait: (timeoutMs = 30_000) => typed.then(() => this.waitForMarker(marker, line, timeoutMs)) };
  }

  /** Type a line and wait for it to finish; resolves with its exit status. */
  run(line: string, timeoutMs?: number): Promise<number> {
    return this.send(line).wait(timeoutMs);
  }

  /** Run code that cannot be typed (newlines, `!`): it is written to a file and sourced. */
  source(code: string, timeoutMs?: number): Promise<number> {
    const file = join(this.out, `code-${++this.markers}`);
    writeFileSync(file, code);
    return this.run(`. ${this.dialect.quote(file)}`, timeoutMs);
  }

  /** Send tmux key names (`C-c`, `Enter`) without a marker. */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', ...keys);
  }

  private async waitForMarker(marker: string, line: string, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (existsSync(marker)) {
        const text = readFileSync(marker, 'utf8');
        if (text.endsWith('\n')) return Number(text.trim());
      }
      if (Date.now() > deadline || !(await this.isAlive())) {
        const screen = this.alive ? await this.screen().catch(() => '(no screen)') : '(the shell is gone)';
        throw new Error(`${JSON.stringify(line)} did not finish in ${timeoutMs} ms. Screen:\n${screen}`);
      }
      await sleep(20);
    }
  }

  async isAlive(): Promise<boolean> {
    if (!this.alive) return false;
    try {
      await this.tmux('has-session', '-t', 'main');
    } catch {
      this.alive = false;
    }
    return this.alive;
  }

  /** The visible screen as text. */
  screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'main');
  }

  /**
   * The line the cursor is on once the screen has settled, trailing blanks removed: after a
   * command, the prompt the user sees (its last line, for a multi-line PS1).
   */
  async prompt(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last: string | undefined;
    let stable = 0;
    for (;;) {
      const y = (await this.tmux('display-message', '-p', '-t', 'main', '#{cursor_y}')).trim();
      const line = ((await this.screen()).split('\n')[Number(y)] ?? '').trimEnd();
      stable = line !== '' && line === last ? stable + 1 : 0;
      if (stable >= 2) return line;
      if (Date.now() > deadline)
        throw new Error(`the prompt did not settle; last line: ${JSON.stringify(line)}`);
      last = line;
      await sleep(60);
    }
  }

  /** The full environment and prompt state of the shell, read from files the shell writes. */
  async snapshot(): Promise<Snapshot> {
    const n = ++this.markers;
    const files: SnapshotFiles = {
      env: join(this.out, `snap-${n}.env`),
      prompt: join(this.out, `snap-${n}.ps1`),
      variables: join(this.out, `snap-${n}.vars`),
      functions: join(this.out, `snap-${n}.funcs`),
      options: join(this.out, `snap-${n}.opts`),
      traps: join(this.out, `snap-${n}.traps`),
    };
    const status = await this.run(this.dialect.snapshot(files));
    if (status !== 0) throw new Error(`snapshot command failed with ${status}`);
    const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const env = new Map<string, string>();
    for (const [k, v] of parseEnv0(readFileSync(files.env)))
      if (!VOLATILE_ENV.has(k)) env.set(k, v.toString('utf8'));
    const [flag, value] = splitNul(readFileSync(files.prompt)).map((b) => b.toString('utf8'));
    return {
      env,
      prompt: flag === 'set' ? (value ?? '') : undefined,
      variables: new Set(lines(files.variables).filter((v) => !this.dialect.volatile.has(v))),
      functions: new Set(lines(files.functions)),
      options: lines(files.options),
      traps: lines(files.traps),
    };
  }

  /** Stop the server and remove every file of this session. */
  async kill(): Promise<void> {
    let pid: number | undefined;
    try {
      pid =
        Number((await this.tmux('display-message', '-p', '-t', 'main', '#{pane_pid}')).trim()) || undefined;
      await this.tmux('kill-server');
    } catch {
      // Already gone (the shell exited and took the server with it).
    }
    // A shell writes its history file as it dies of SIGHUP; removing HOME before that would race.
    for (let i = 0; pid !== undefined && i < 100 && processExists(pid); i++) await sleep(20);
    rmSync(this.root, { recursive: true, force: true, maxRetries: 10 });
  }
}

/** Running, that is: a zombie nobody reaps (no init in a container) has finished its work. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Differences between two snapshots, one readable line each; empty when they are identical. */
export function diffSnapshots(before: Snapshot, after: Snapshot, ignore: { env?: string[] } = {}): string[] {
  const out: string[] = [];
  const skip = new Set(ignore.env ?? []);
  for (const name of new Set([...before.env.keys(), ...after.env.keys()])) {
    if (skip.has(name)) continue;
    const a = before.env.get(name);
    const b = after.env.get(name);
    if (a === b) continue;
    if (a === undefined) out.push(`env ${name}: added ${JSON.stringify(b)}`);
    else if (b === undefined) out.push(`env ${name}: removed (was ${JSON.stringify(a)})`);
    else out.push(`env ${name}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
  }
  if (before.prompt !== after.prompt) {
    const show = (p: string | undefined) => (p === undefined ? 'unset' : JSON.stringify(p));
    out.push(`PS1: ${show(before.prompt)} -> ${show(after.prompt)}`);
  }
  const sets = (what: string, a: Set<string>, b: Set<string>) => {
    for (const x of b) if (!a.has(x)) out.push(`${what} ${x}: added`);
    for (const x of a) if (!b.has(x)) out.push(`${what} ${x}: removed`);
  };
  sets('variable', before.variables, after.variables);
  sets('function', before.functions, after.functions);
  sets('option', new Set(before.options), new Set(after.options));
  sets('trap', new Set(before.traps), new Set(after.traps));
  return out;
}

/** fish's quoting: inside single quotes only `\\` and `\'` are escapes, newlines are fine. */
const fishQuote = (v: string) => `'${v.replace(/[\\']/g, '\\$&')}'`;

/**
 * fish: the prompt is the function `fish_prompt`, so the snapshot's prompt is its definition
 * (`functions fish_prompt`, with the `# Defined in …` line that says where fish got it); options
 * are fish's feature flags, abbreviations and key bindings; traps are its event handlers. No rc
 * file is created up front: fish starts quietly without config.fish (and rcFiles are written
 * without their directory).
 */
export const fishDialect: TmuxDialect = {
  rcFiles: [],
  quote: fishQuote,
  status: (file) => `printf '%s\\n' $status > ${fishQuote(file)}`,
  snapshot: (f) =>
    [
      `env -0 > ${fishQuote(f.env)}`,
      `if functions -q fish_prompt; printf 'set\\0'; functions fish_prompt; else; printf 'unset\\0'; end > ${fishQuote(f.prompt)}`,
      `set -n > ${fishQuote(f.variables)}`,
      `functions -a -n > ${fishQuote(f.functions)}`,
      `begin; status features; abbr --show; bind; end > ${fishQuote(f.options)}`,
      `functions --handlers > ${fishQuote(f.traps)}`,
    ].join('; '),
  // fish has no history expansion; a newline would end the typed line.
  untypeable: /\n/,
  // Set by fish itself as commands run, independent of what the command did.
  volatile: new Set([
    '_',
    'CMD_DURATION',
    'COLUMNS',
    'LINES',
    'PWD',
    'dirprev',
    'dirnext',
    'history',
    'pipestatus',
    'status',
    'status_generation',
    'last_pid',
    'fish_kill_signal',
  ]),
};
