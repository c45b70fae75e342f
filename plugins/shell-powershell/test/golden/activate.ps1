[System.Environment]::SetEnvironmentVariable('PYTHONHOME', [NullString]::Value)
[System.Environment]::SetEnvironmentVariable('BLAST_ENV', 'demo')
[System.Environment]::SetEnvironmentVariable('GREETING', 'it''s “quoted” — ‘‘all’’ $(the) `way` down
line 2')
[System.Environment]::SetEnvironmentVariable('PATH', (@('/home/u/.local/share/blast/envs/demo/bin', '/usr/local/bin', '/usr/bin', '/bin') -join [System.IO.Path]::PathSeparator))
[System.Environment]::SetEnvironmentVariable('VIRTUAL_ENV', '/home/u/.local/share/blast/envs/demo')
[System.Environment]::SetEnvironmentVariable('VIRTUAL_ENV_PROMPT', 'demo')
[System.Environment]::SetEnvironmentVariable('BLAST_SHELL_STATE', 'eyJ2IjoxLCJlbnYiOnsibmFtZSI6ImRlbW8ifX0')
if (-not [System.Environment]::GetEnvironmentVariable('VIRTUAL_ENV_DISABLE_PROMPT')) {
  if ($null -eq $ExecutionContext.SessionState.PSVariable.Get('global:_BLAST_PROMPT_SAVED')) {
    $global:_BLAST_OLD_PROMPT = ${function:global:prompt}
    $global:_BLAST_PROMPT_SAVED = $true
  }
  $global:_BLAST_PROMPT = '(demo) '
  function global:prompt {
    $_BLAST_OK = $global:?
    $Host.UI.Write([string]$global:_BLAST_PROMPT)
    if ($null -eq $global:_BLAST_OLD_PROMPT) { return 'PS>' }
    if (-not $_BLAST_OK) { Microsoft.PowerShell.Utility\Write-Error -Message '' -ErrorAction Ignore }
    & $global:_BLAST_OLD_PROMPT
  }
}
