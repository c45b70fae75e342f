/**
 * Running real shells non-interactively, for tests of shell adapters: a script goes into a file
 * and runs in a clean environment; values come back NUL-separated so they can be compared byte
 * for byte. Also the seeded generator of hostile values the adapters' tests share.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/** A private temp directory; `cleanup` removes it. */
export function tempDir(prefix = 'blast-sh-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Whether a shell is installed (so a suite can skip one that is not). */
export function hasShell(name: string): boolean {
  return spawnSync(name, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;
}

/**
 * A small, predictable environment: the system PATH plus node's directory (the CLI needs it), a
 * UTF-8 locale, and nothing from the developer's shell that could change a shell's behaviour.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const path = [dirname(process.execPath), ...(process.env.PATH ?? '/usr/bin:/bin').split(delimiter)];
  return {
    PATH: [...new Set(path)].join(delimiter),
    HOME: process.env.HOME ?? tmpdir(),
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ...extra,
  };
}

export interface ShellResult {
  status: number;
  /** Raw bytes: adapters are judged byte for byte. */
  stdout: Buffer;
  stderr: string;
}

/**
 * Run `script` with `argv` (e.g. ['bash', '--norc', '--noprofile'] or ['zsh', '-f']) from a file in
 * `dir`. The script file's path is appended to argv.
 */
export function runShell(
  argv: readonly string[],
  script: string,
  options: { dir: string; env?: Record<string, string>; input?: string; name?: string },
): ShellResult {
  const file = join(options.dir, options.name ?? 'script.sh');
  writeFileSync(file, script);
  const [command, ...args] = argv;
  const result = spawnSync(command!, [...args, file], {
    cwd: options.dir,
    env: options.env ?? cleanEnv(),
    input: options.input ?? '',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 128 + 1, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

/** Split NUL-terminated records (the output of `printf '%s\0'` or `env -0`). */
export function splitNul(data: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(0, start); i >= 0; i = data.indexOf(0, start)) {
    parts.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) parts.push(data.subarray(start));
  return parts;
}

/** `env -0` output as a map; a value may contain `=` and newlines, a name never does. */
export function parseEnv0(data: Buffer): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (const record of splitNul(data)) {
    const eq = record.indexOf('=');
    if (eq > 0) map.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
  }
  return map;
}

/**
 * POSIX-family (bash, zsh) code that prints, for each name, `set` or `unset` and then the value,
 * each NUL-terminated, so unset and empty stay apart.
 */
export function posixDump(names: readonly string[]): string {
  return names
    .map((n) => `if [ -n "\${${n}+x}" ]; then printf 'set\\0%s\\0' "$${n}"; else printf 'unset\\0\\0'; fi`)
    .join('\n');
}

/** Read back what posixDump printed: undefined for unset, else the raw bytes. */
export function parseDump(data: Buffer, names: readonly string[]): Map<string, Buffer | undefined> {
  const parts = splitNul(data);
  const map = new Map<string, Buffer | undefined>();
  names.forEach((name, i) => {
    const flag = parts[2 * i]?.toString('utf8');
    if (flag !== 'set' && flag !== 'unset') throw new Error(`dump is short or garbled at ${name} (${flag})`);
    map.set(name, flag === 'set' ? parts[2 * i + 1] : undefined);
  });
  return map;
}

/** mulberry32: tiny, fast and good enough to pick characters; the seed makes failures reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Each value arrived byte for byte under its name, both as the shell sees it and in a child's
 * environment, and nothing in them ran (no `pwned` file appeared in `dir`).
 */
export function expectArrived(
  values: readonly string[],
  names: readonly string[],
  got: { shell: Map<string, Buffer | undefined>; env: Map<string, Buffer> },
  label: string,
  dir: string,
): void {
  values.forEach((value, i) => {
    const want = Buffer.from(value, 'utf8');
    const why = `${label} value #${i} ${JSON.stringify(value)}`;
    expect(got.shell.get(names[i]!)?.equals(want), `${why} in the shell`).to.equal(true);
    expect(got.env.get(names[i]!)?.equals(want), `${why} in the environment`).to.equal(true);
  });
  expect(existsSync(join(dir, 'pwned')), 'nothing ran').to.equal(false);
}

/** BLAST_TEST_SEED reproduces a failing run; otherwise a fixed seed keeps runs stable. */
export function testSeed(fallback = 20241125): number {
  const raw = process.env.BLAST_TEST_SEED;
  return raw && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

/** Pieces that mean something to some shell, quoting rule or prompt language. */
const PIECES = [
  "'",
  '"',
  '\\',
  '$',
  '`',
  '$(',
  ')',
  '${',
  '}',
  '$((1+1))',
  "'\\''",
  "''",
  '\\n',
  '\n',
  '\r',
  '\t',
  ' ',
  '%',
  '%n',
  '%%',
  '!',
  '!!',
  '!$',
  '^',
  ';',
  '&',
  '&&',
  '|',
  '||',
  '<',
  '>',
  '>|',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  '*',
  '?',
  '~',
  '#',
  '=',
  '-',
  '--',
  '\\u',
  '\\[',
  '\\]',
  '\\$',
  '\\\\',
  'a',
  'Z',
  '0',
  '_',
  'é',
  'ß',
  '€',
  '😀',
  '日本',
  '\u200b',
  '\u2028',
  '\u202e',
  '\u00a0',
  '\x01',
  '\x1b[31m',
  '\x7f',
  '$HOME',
  '${PATH}',
  '$(touch pwned)',
  '`touch pwned`',
  '$1',
  '$@',
  '$*',
  '$?',
  '$$',
  '$#',
  '$_',
  // PowerShell reads these as single quotes too (U+2018..U+201B).
  '\u2018',
  '\u2019',
  '\u201a',
  '\u201b',
];

/** A random value of 0–40 pieces: mostly hostile, sometimes empty. */
export function randomValue(random: () => number): string {
  const count = Math.floor(random() * random() * 41);
  let value = '';
  for (let i = 0; i < count; i++) value += PIECES[Math.floor(random() * PIECES.length)];
  return value;
}

/** Values every adapter must round-trip, whatever the generator happens to produce. */
export const HOSTILE_VALUES: readonly string[] = [
  '',
  ' ',
  "'",
  "''",
  "'\\''",
  '"',
  '\\',
  '\\\\',
  '\\n',
  '\n',
  '\n\n',
  'trailing newline\n',
  '\r\n',
  '$(touch pwned)',
  '`touch pwned`',
  '$HOME',
  '${HOME}',
  'it\'s a "test" with $vars and `cmds` and \\ and %s',
  '!',
  '!!',
  '!$',
  'a!b',
  '%n%#%~',
  '%{\x1b[31m%}',
  '-n',
  '-e',
  '--',
  '=',
  'a=b',
  '*',
  '~',
  '~root',
  '# not a comment',
  '; touch pwned',
  '&& touch pwned',
  '| touch pwned',
  'unicode: é ß € 😀 日本語 \u200b \u2028 \u202e',
  '\x01\x02\x1b\x7f',
  'x'.repeat(10_000),
];
