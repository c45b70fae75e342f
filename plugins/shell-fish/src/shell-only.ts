/**
 * Shell-only variables (ShellChange's keep/putBack): a global fish variable set without `-x`
 * (`set -g FOO bar`) is invisible to the CLI, yet activation exports FOO over it. Its value (a
 * list, kept whole) goes aside into the global `_BLAST_KEPT_<NAME>`, never exported, and comes
 * back unexported on kill. Queries and assignments say `-g`: the script runs inside the `blast`
 * function, whose own locals must not count, and a universal variable of that name is not
 * touched at all (erasing the global that shadowed it shows it again).
 */
import { checkName } from './quote.js';

const kept = (name: string) => `_BLAST_KEPT_${name}`;

/** Keep the shell's own value of `name` aside, unless one is kept already (a switch). */
export function renderKeep(name: string): string {
  const copy = kept(checkName(name));
  return `if set -q -g ${name}; and not set -q -g ${copy}; set -g ${copy} $${name}; end`;
}

/** Erase `name`, then give back the value kept for it, unexported, and forget the copy. */
export function renderPutBack(name: string): string {
  const copy = kept(checkName(name));
  return `set -e -g ${name}; if set -q -g ${copy}; set -g ${name} $${copy}; set -e -g ${copy}; end`;
}
