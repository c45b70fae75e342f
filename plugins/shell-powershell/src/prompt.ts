/**
 * The prompt part of a rendered change.
 *
 * State kept in the session as global PowerShell variables (never in the environment, so child
 * processes and child shells do not see it):
 *   $global:_BLAST_PROMPT_SAVED  exists once the prompt has been set aside
 *   $global:_BLAST_OLD_PROMPT    the prompt function's script block as it was; $null if there was none
 *   $global:_BLAST_PROMPT        the tag
 *
 * The script runs dot-sourced inside the `blast` function (or at the top of the subshell), so every
 * definition is `global:`-qualified. It is written for the settings users really have:
 * - `Set-StrictMode -Version Latest`: a variable that may not exist is looked up through
 *   `$ExecutionContext.SessionState.PSVariable`, never read directly;
 * - functions or aliases that shadow cmdlets: only language syntax and .NET calls are used, and the
 *   one cmdlet is module-qualified;
 * - `$WhatIfPreference`/`$ConfirmPreference`: no ShouldProcess cmdlet is called.
 *
 * The tag is written with `$Host.UI.Write` before the old prompt runs, as venv's and conda's
 * Activate.ps1 do (Write-Host), so it shows first also when the old prompt writes with Write-Host
 * itself and returns only a space. PowerShell does not interpret what a prompt writes, so the tag
 * shows literally. `$?` is read first and set back to false (the VS Code / starship technique)
 * before the old prompt runs, so a prompt that shows the last command's status still sees it;
 * `$LASTEXITCODE` is left untouched because nothing here runs a native command.
 */
import { quote } from './quote.js';

const SAVED = `$ExecutionContext.SessionState.PSVariable.Get('global:_BLAST_PROMPT_SAVED')`;

export function renderTag(tag: string): string {
  return [
    `if (-not [System.Environment]::GetEnvironmentVariable('VIRTUAL_ENV_DISABLE_PROMPT')) {`,
    // Once: a second tag (switching environments) replaces the tag, never the saved prompt.
    `  if ($null -eq ${SAVED}) {`,
    '    $global:_BLAST_OLD_PROMPT = ${function:global:prompt}',
    '    $global:_BLAST_PROMPT_SAVED = $true',
    '  }',
    `  $global:_BLAST_PROMPT = ${quote(tag)}`,
    '  function global:prompt {',
    '    $_BLAST_OK = $global:?',
    '    $Host.UI.Write([string]$global:_BLAST_PROMPT)',
    // What the host shows when no prompt function exists.
    `    if ($null -eq $global:_BLAST_OLD_PROMPT) { return 'PS>' }`,
    `    if (-not $_BLAST_OK) { Microsoft.PowerShell.Utility\\Write-Error -Message '' -ErrorAction Ignore }`,
    '    & $global:_BLAST_OLD_PROMPT',
    '  }',
    '}',
  ].join('\n');
}

export function renderRestore(): string {
  return [
    `if ($null -ne ${SAVED}) {`,
    '  if ($null -ne $global:_BLAST_OLD_PROMPT) {',
    '    ${function:global:prompt} = $global:_BLAST_OLD_PROMPT',
    '  } elseif ($null -ne ${function:global:prompt}) {',
    // There was no prompt function before: remove ours, so the host's default shows again.
    `    $ExecutionContext.SessionState.InvokeProvider.Item.Remove('Function:\\prompt', $false)`,
    '  }',
    `  $ExecutionContext.SessionState.PSVariable.Remove('global:_BLAST_OLD_PROMPT')`,
    `  $ExecutionContext.SessionState.PSVariable.Remove('global:_BLAST_PROMPT_SAVED')`,
    `  $ExecutionContext.SessionState.PSVariable.Remove('global:_BLAST_PROMPT')`,
    '}',
  ].join('\n');
}
