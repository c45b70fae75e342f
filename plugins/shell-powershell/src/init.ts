/**
 * The `blast` function (what `blast init powershell` prints, for the profile to Invoke-Expression).
 *
 * It runs the CLI with the terminal untouched and the three protocol variables set for that call
 * only, then dot-sources what the CLI wrote. PowerShell has no per-command environment prefix
 * (`VAR=x cmd`), so the variables are set in the process environment and put back afterwards in a
 * `finally` — unset stays unset (through `[NullString]::Value`: a plain `$null` would reach .NET as
 * '', which .NET 9 keeps as an empty variable).
 *
 * Written for the settings users really have, like the bash function:
 * - only language syntax and .NET calls, so no function or alias named like a cmdlet (`Remove-Item`,
 *   `Get-Content`…) can change what it does, and no `$WhatIfPreference`/`$ConfirmPreference`
 *   applies; works under `Set-StrictMode -Version Latest`;
 * - `$PSNativeCommandUseErrorActionPreference` (7.3+) is turned off in the function's scope: with it on
 *   and `$ErrorActionPreference = 'Stop'`, a CLI exiting non-zero would throw before the script is
 *   read; the status is passed on in `$LASTEXITCODE` instead;
 * - the file is read as UTF-8 (the core writes UTF-8 without BOM) whatever the session's default
 *   encoding — Windows PowerShell 5.1's Get-Content would read it in the ANSI code page;
 * - its own variables are named `$_BLAST_FN_*`, local to the function;
 * - it declares no parameters and takes everything through `@args`: then PowerShell hands argument
 *   completion for `blast` to the native completer @oclif/plugin-autocomplete registers for that
 *   name (CompleteCommandArgument looks native completers up by command name once the parameter
 *   binder has nothing to offer, for functions too); declared parameters would take it over.
 *
 * The file is removed in `finally`, so on every path: ^C stops the whole pipeline (the CLI and the
 * function) and runs the `finally` blocks, and nothing is sourced then. A CLI killed by a signal
 * (status > 128 on Unix, a negative NTSTATUS on Windows) may have left a half-written file, so it is
 * not sourced either. A CLI that cannot be started leaves `$LASTEXITCODE` at 127, as in POSIX shells.
 *
 * `$?` after `blast` only says whether PowerShell itself saw an error: a plain function cannot set
 * it. The CLI's status is in `$LASTEXITCODE`, as for any native command.
 */
import type { InitContext } from 'blast/contract';
import { quote } from './quote.js';

const ENV = '[System.Environment]';

export function init(ctx: InitContext): string {
  const shell = quote(ctx.shellVariable);
  const script = quote(ctx.scriptVariable);
  const pid = quote(ctx.pidVariable);
  // The generated init file's stamp goes with every call, like the three protocol variables.
  const vars: Array<[string, string, string]> = [
    [shell, '$_BLAST_FN_SHELL', "'powershell'"],
    [script, '$_BLAST_FN_SCRIPT', '$_BLAST_FN_FILE'],
    [pid, '$_BLAST_FN_PID', '[string]$PID'],
    ...(ctx.stamp
      ? [[quote(ctx.stamp.variable), '$_BLAST_FN_STAMP', quote(ctx.stamp.value)] as [string, string, string]]
      : []),
  ];
  const restore = (name: string, saved: string) =>
    `if ($null -eq ${saved}) { ${ENV}::SetEnvironmentVariable(${name}, [NullString]::Value) } ` +
    `else { ${ENV}::SetEnvironmentVariable(${name}, ${saved}) }`;
  return (
    [
      'function global:blast {',
      '  $PSNativeCommandUseErrorActionPreference = $false',
      '  $_BLAST_FN_FILE = [System.IO.Path]::GetTempFileName()',
      '  try {',
      ...vars.map(([name, saved]) => `    ${saved} = ${ENV}::GetEnvironmentVariable(${name})`),
      '    $global:LASTEXITCODE = 127',
      '    try {',
      // The pid is the shell's own, the process the activation belongs to (see the core's shell-pid.ts).
      ...vars.map(([name, , value]) => `      ${ENV}::SetEnvironmentVariable(${name}, ${value})`),
      `      & ${quote(ctx.bin)} @args`,
      '    } finally {',
      ...vars.map(([name, saved]) => `      ${restore(name, saved)}`),
      '    }',
      '    $_BLAST_FN_STATUS = $global:LASTEXITCODE',
      '    if ($_BLAST_FN_STATUS -ge 0 -and $_BLAST_FN_STATUS -le 128) {',
      '      $_BLAST_FN_CODE = [System.IO.File]::ReadAllText($_BLAST_FN_FILE, [System.Text.Encoding]::UTF8)',
      '      if ($_BLAST_FN_CODE.Length -gt 0) { . ([ScriptBlock]::Create($_BLAST_FN_CODE)) }',
      '    }',
      // Whatever the script ran, the function's status is the CLI's.
      '    $global:LASTEXITCODE = $_BLAST_FN_STATUS',
      '  } finally {',
      '    [System.IO.File]::Delete($_BLAST_FN_FILE)',
      '  }',
      '}',
      // @oclif/plugin-autocomplete's completer, from its cache when it is there.
      ...(ctx.completionScript
        ? [
            `if ([System.IO.File]::Exists(${quote(ctx.completionScript)})) { . ${quote(ctx.completionScript)} }`,
          ]
        : []),
    ].join('\n') + '\n'
  );
}

/**
 * The profile line of `blast init --install`: dot-source the generated file if it is there (a
 * .NET call and the dot operator: no process starts, no cmdlet a user could shadow).
 */
export function sourceLine(file: string): string {
  return `if ([System.IO.File]::Exists(${quote(file)})) { . ${quote(file)} }`;
}

/**
 * The profile line (`blast init powershell --install`). The CLI's output comes back as an array of
 * lines; joining them keeps the function one piece of code. On Windows PowerShell 5.1 a native
 * command's output is decoded with [Console]::OutputEncoding (the OEM code page by default), so a
 * Blast installed under a non-ASCII path needs a UTF-8 console there; pwsh 7 on Linux and macOS
 * decodes UTF-8.
 */
export function rcLine(bin: string): string {
  return `Invoke-Expression ((& ${quote(bin)} init powershell) -join [System.Environment]::NewLine)`;
}
