/**
 * Render a ShellChange for PowerShell, in the contract's order: unset, set, prompt, commands.
 *
 * Variables are changed through `[System.Environment]::SetEnvironmentVariable`, the call the
 * `Env:` drive itself makes, rather than `$env:X = …`, `Set-Item` or `Remove-Item`: a .NET call cannot
 * be shadowed by a user's function or alias, and is not subject to `$WhatIfPreference` or
 * `$ConfirmPreference` as the provider cmdlets are. Names are string arguments, so they are quoted
 * like values (and validated besides).
 *
 * Unset: the value is `[NullString]::Value`, because PowerShell turns `$null` into '' when it passes
 * it to a .NET string parameter, and '' does not remove a variable on .NET 9 and later.
 *
 * Empty: `SetEnvironmentVariable(NAME, '')`. pwsh 7.5 and later (on .NET 9) then hold the variable
 * with an empty value, like POSIX shells. Windows PowerShell 5.1 and pwsh up to 7.4 cannot hold an
 * empty environment variable at all — .NET before 9 removes the variable when given '' — so there
 * an empty value ends up unset; no PowerShell-level workaround exists (the process environment a
 * child gets is .NET's copy, not libc's).
 *
 * PATH: the core gives it ':'-joined (POSIX). It is written as the list of its entries joined with
 * `[System.IO.Path]::PathSeparator`, which is ':' on Linux and macOS and ';' on Windows, so the same
 * script is right on every platform.
 *
 * PowerShell keeps no table of command locations for the user to forget (bash's `hash -r`): it
 * searches PATH at each lookup, so nothing follows the prompt part.
 */
import type { ShellChange } from 'blast/contract';
import { renderRestore, renderTag } from './prompt.js';
import { checkName, quote } from './quote.js';
import { renderDefine, renderRestore as renderCommandRestore } from './commands.js';

const SET = '[System.Environment]::SetEnvironmentVariable';

/** The PowerShell expression for a ':'-joined path list, joined by the platform's separator. */
export function pathList(value: string): string {
  return `(@(${value.split(':').map(quote).join(', ')}) -join [System.IO.Path]::PathSeparator)`;
}

export function render(change: ShellChange): string {
  const lines: string[] = [];
  for (const name of change.unset) lines.push(`${SET}(${quote(checkName(name))}, [NullString]::Value)`);
  for (const [name, value] of change.set) {
    lines.push(`${SET}(${quote(checkName(name))}, ${name === 'PATH' ? pathList(value) : quote(value)})`);
  }
  if (change.prompt.action === 'tag') lines.push(renderTag(change.prompt.tag));
  else if (change.prompt.action === 'restore') lines.push(renderRestore());
  for (const name of change.commands?.restore ?? []) lines.push(renderCommandRestore(name));
  for (const { name, run } of change.commands?.define ?? []) lines.push(renderDefine(name, run));
  return lines.length ? lines.join('\n') + '\n' : '';
}
