/**
 * Render a ShellChange for bash or zsh, in the contract's order: unset (or put back), keep, set,
 * prompt, commands (`deactivate`, `pydoc`), and finally forget cached command paths (both shells cache them; a stale `python` would
 * outlive the switch).
 */
import type { ShellChange } from 'blast/contract';
import type { Dialect } from './dialect.js';
import { renderRestore, renderTag } from './prompt.js';
import { checkName, quote } from './quote.js';
import { renderKeep, renderPutBack } from './shell-only.js';
import { renderDefine, renderRestore as renderCommandRestore } from './commands.js';

export function render(dialect: Dialect, change: ShellChange): string {
  const lines: string[] = [];
  // -v: bash's plain `unset` removes a function of that name when no variable exists.
  const putBack = new Set(change.putBack ?? []);
  for (const name of change.unset)
    lines.push(putBack.has(name) ? renderPutBack(dialect, name) : `unset -v ${checkName(name)}`);
  for (const name of change.keep ?? []) lines.push(renderKeep(dialect, name));
  // `export` is global in zsh too (typeset -gx), so it survives the function's return.
  for (const [name, value] of change.set) lines.push(`export ${checkName(name)}=${quote(value)}`);
  if (change.prompt.action === 'tag') lines.push(renderTag(dialect, change.prompt.tag));
  else if (change.prompt.action === 'restore') lines.push(renderRestore(dialect));
  for (const name of change.commands?.restore ?? []) lines.push(renderCommandRestore(dialect, name));
  for (const { name, run } of change.commands?.define ?? []) lines.push(renderDefine(dialect, name, run));
  // `hash -r` fails and says so when hashing is off (`set +h`): then there is nothing to forget.
  lines.push(dialect === 'bash' ? 'hash -r 2>/dev/null || :' : 'rehash');
  return lines.join('\n') + '\n';
}
