/**
 * Render a ShellChange for fish, in the contract's order: unset (or put back), keep, set, prompt, commands.
 *
 * Scope: the script is sourced inside the `blast` function, and in fish a plain `set` there makes
 * a function-local variable and `set -e` erases the innermost one. So every variable is set
 * `-gx` (global, exported) and erased `-e -g`.
 *
 * Lists: fish keeps PATH, and every other variable whose name ends in PATH, as a list it exports
 * joined with `:`. The core hands over the joined value; it is split back into elements here and
 * set with `--path`, so it is exported joined with `:` even if the user had turned the variable
 * into a plain list. An empty value is the empty list, which fish exports as the empty string —
 * different from unset, which `set -e` gives. (fish itself turns an empty element of PATH or
 * CDPATH into `.`, the directory an empty element means; other path variables keep theirs.)
 *
 * Variables fish keeps read-only (`status`, `PWD`, `SHLVL`…) cannot be set or erased by a script:
 * setting one prints a warning instead, erasing one is left out (no user ever owns one in fish).
 *
 * Nothing is done to forget cached command paths: fish keeps no such cache (unlike bash's `hash`
 * or zsh's command table) and looks every command up on PATH when it runs it.
 */
import type { ShellChange } from 'blast/contract';
import { renderRestore, renderTag } from './prompt.js';
import { checkName, isPathVariable, isReadOnly, quote } from './quote.js';
import { renderKeep, renderPutBack } from './shell-only.js';
import { renderDefine, renderRestore as renderCommandRestore } from './commands.js';

export function render(change: ShellChange): string {
  const lines: string[] = [];
  const putBack = new Set(change.putBack ?? []);
  for (const name of change.unset) {
    if (isReadOnly(checkName(name))) continue;
    lines.push(putBack.has(name) ? renderPutBack(name) : `set -e -g ${name}`);
  }
  for (const name of change.keep ?? []) if (!isReadOnly(checkName(name))) lines.push(renderKeep(name));
  for (const [name, value] of change.set) {
    if (!isReadOnly(checkName(name))) lines.push(setLine(name, value));
    else
      lines.push(
        `builtin printf '%s\\n' ${quote(`blast: fish keeps ${name} read-only; it is left as it is.`)} >&2`,
      );
  }
  if (change.prompt.action === 'tag') lines.push(renderTag(change.prompt.tag));
  else if (change.prompt.action === 'restore') lines.push(renderRestore());
  for (const name of change.commands?.restore ?? []) lines.push(renderCommandRestore(name));
  for (const { name, run } of change.commands?.define ?? []) lines.push(renderDefine(name, run));
  return lines.join('\n') + '\n';
}

function setLine(name: string, value: string): string {
  if (!isPathVariable(name)) return `set -gx ${name} ${quote(value)}`;
  const elements = value === '' ? [] : value.split(':');
  return ['set -gx --path', name, ...elements.map(quote)].join(' ');
}
