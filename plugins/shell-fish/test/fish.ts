/**
 * Running real fish for the adapter's tests: non-interactive fish on a script file, values read
 * back NUL-separated so they are compared byte for byte, unset kept apart from empty.
 */
import { runShell, type ShellResult } from '../../../test/support/shells.js';

/** fish without any startup file: what render and quote must work in. */
export const FISH_NO_CONFIG = ['fish', '--no-config'];
/** fish reading the startup files and function path of HOME (for autoloaded prompts). */
export const FISH_WITH_HOME = ['fish'];

/** Source a file the way the `blast` function does: inside a function that has locals. */
export const SOURCE_IN_FUNCTION =
  'function __blast_test_source; set -l __blast_test_local 1; builtin source $argv[1]; end';

/**
 * fish code printing, for each name, `set` or `unset` and then the value, each NUL-terminated
 * (the format of posixDump, read back with parseDump). A list is printed as fish exports it: a
 * path variable joined with `:`, any other with spaces.
 */
export function fishDump(names: readonly string[]): string {
  return names
    .map((n) => `if set -q ${n}; printf 'set\\0%s\\0' "$${n}"; else; printf 'unset\\0\\0'; end`)
    .join('\n');
}

export function runFish(
  script: string,
  options: { dir: string; env?: Record<string, string>; argv?: readonly string[] },
): ShellResult {
  return runShell(options.argv ?? FISH_NO_CONFIG, script, {
    dir: options.dir,
    env: options.env,
    name: 'script.fish',
  });
}

/** Tags that would run code, or show something else, if fish read them as code or format. */
export const HOSTILE_TAGS: readonly string[] = [
  '(demo) ',
  '($(touch pwned)) ',
  '((touch pwned)) ',
  '(`touch pwned`) ',
  '($HOME {a,b} ~ * ?) ',
  '(%s %d %% \\n \\x41 \\\\) ',
  `('"' \\' \\") `,
  '(; touch pwned; echo) ',
  '(日本 😀) ',
];
