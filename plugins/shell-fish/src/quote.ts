/**
 * Quoting for fish.
 *
 * Inside fish's single quotes every character is literal except two escapes: `\\` (a backslash)
 * and `\'` (a quote). Newlines and every other byte need nothing, and there is no expansion of any
 * kind — no `$`, no `(…)`, no `~`, no braces, no history. So a value is quoted by escaping exactly
 * those two characters and wrapping the result once. (Not POSIX quoting: `'\''` means something
 * else in fish, and a POSIX-quoted string wrapped in fish quotes would not read back.)
 */

/** Names the core validates; checked again here because a name is spliced into code unquoted. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Variables fish will not let a script set (read-only or special): `set -gx status 1` fails. The
 * core may still name one (`--env SHLVL=2` is fine in bash), so render leaves them alone and says
 * so, rather than fail every later activation of an environment that stores one.
 */
const FISH_READ_ONLY = new Set([
  '_',
  'FISH_VERSION',
  'PWD',
  'SHLVL',
  'fish_kill_signal',
  'fish_killring',
  'fish_pid',
  'history',
  'hostname',
  'pipestatus',
  'status',
  'status_generation',
  'umask',
  'version',
]);

export function quote(value: string): string {
  // A variable cannot hold NUL in the environment; failing beats silently cutting the value.
  if (value.includes('\0')) throw new Error('a shell value cannot contain a NUL character');
  return `'${value.replace(/[\\']/g, '\\$&')}'`;
}

/** A word fish reads as itself without quotes (for lines people read, like the rc line). */
export function word(value: string): string {
  return /^[A-Za-z0-9_./@+-]+$/.test(value) && !value.startsWith('-') ? value : quote(value);
}

export function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a valid shell variable name: ${JSON.stringify(name)}`);
  return name;
}

export function isReadOnly(name: string): boolean {
  return FISH_READ_ONLY.has(name);
}

/**
 * Variables fish keeps as lists and exports joined with `:` — every name ending in PATH (fish
 * makes those path variables on its own; MANPATH, CDPATH, PYTHONPATH…).
 */
export function isPathVariable(name: string): boolean {
  return name.endsWith('PATH');
}
