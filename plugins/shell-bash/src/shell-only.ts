/**
 * Shell-only variables (ShellChange's keep/putBack): `FOO=bar` without `export` is invisible to
 * the CLI, yet activation exports FOO over it. The value is kept aside in the shell, in
 * `_BLAST_KEPT_<NAME>` (itself never exported, so child processes do not see it), and given back
 * unexported on kill. `${V+x}` tells set from unset, also under `set -u`. As in prompt.ts, zsh
 * assigns with `typeset -g` so the value outlives the `blast` function and WARN_CREATE_GLOBAL
 * stays quiet; in bash a plain assignment inside a function is global already.
 */
import type { Dialect } from './dialect.js';
import { checkName } from './quote.js';

function isSet(dialect: Dialect, name: string): string {
  return dialect === 'bash' ? `[ -n "\${${name}+x}" ]` : `[[ -n \${${name}+x} ]]`;
}

function assign(dialect: Dialect, name: string, from: string): string {
  return `${dialect === 'zsh' ? 'typeset -g ' : ''}${name}="$${from}"`;
}

const kept = (name: string) => `_BLAST_KEPT_${name}`;

/** Keep the shell's own value of `name` aside, unless one is kept already (a switch). */
export function renderKeep(dialect: Dialect, name: string): string {
  const copy = kept(checkName(name));
  const notKept = dialect === 'bash' ? `[ -z "\${${copy}+x}" ]` : `[[ -z \${${copy}+x} ]]`;
  return `if ${isSet(dialect, name)} && ${notKept}; then ${assign(dialect, copy, name)}; fi`;
}

/** Unset `name`, then give back the value kept for it, unexported, and forget the copy. */
export function renderPutBack(dialect: Dialect, name: string): string {
  const copy = kept(checkName(name));
  return `unset -v ${name}; if ${isSet(dialect, copy)}; then ${assign(dialect, name, copy)}; unset -v ${copy}; fi`;
}
