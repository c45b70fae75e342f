/**
 * ShellChange's commands (venv's habits) for PowerShell: `deactivate` and `pydoc` as global
 * functions while an environment is active (virtualenv's activate.ps1 defines both). The session's
 * own function of the name is kept as a script block in `$global:_BLAST_CMD_<name>` ($null when
 * there was none; the variable's existence says the name was taken over) and put back on kill.
 * Only language syntax and .NET calls, as in prompt.ts.
 */
import { checkName, quote } from './quote.js';

const saved = (n: string) => `$ExecutionContext.SessionState.PSVariable.Get('global:_BLAST_CMD_${n}')`;

export function renderDefine(name: string, run: readonly string[]): string {
  const n = checkName(name);
  return [
    `if ($null -eq ${saved(n)}) { $global:_BLAST_CMD_${n} = \${function:global:${n}} }`,
    `function global:${n} { & ${run.map(quote).join(' ')} @args }`,
  ].join('\n');
}

export function renderRestore(name: string): string {
  const n = checkName(name);
  return [
    `if ($null -ne ${saved(n)}) {`,
    `  if ($null -ne $global:_BLAST_CMD_${n}) { \${function:global:${n}} = $global:_BLAST_CMD_${n} }`,
    `  elseif ($null -ne \${function:global:${n}}) { $ExecutionContext.SessionState.InvokeProvider.Item.Remove(${quote(`Function:\\${n}`)}, $false) }`,
    `  $ExecutionContext.SessionState.PSVariable.Remove('global:_BLAST_CMD_${n}')`,
    '}',
  ].join('\n');
}
