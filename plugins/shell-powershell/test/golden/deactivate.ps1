[System.Environment]::SetEnvironmentVariable('BLAST_ENV', [NullString]::Value)
[System.Environment]::SetEnvironmentVariable('BLAST_SHELL_STATE', [NullString]::Value)
[System.Environment]::SetEnvironmentVariable('GREETING', [NullString]::Value)
[System.Environment]::SetEnvironmentVariable('VIRTUAL_ENV', [NullString]::Value)
[System.Environment]::SetEnvironmentVariable('VIRTUAL_ENV_PROMPT', [NullString]::Value)
[System.Environment]::SetEnvironmentVariable('PATH', (@('/usr/local/bin', '/usr/bin', '/bin') -join [System.IO.Path]::PathSeparator))
[System.Environment]::SetEnvironmentVariable('PYTHONHOME', '')
if ($null -ne $ExecutionContext.SessionState.PSVariable.Get('global:_BLAST_PROMPT_SAVED')) {
  if ($null -ne $global:_BLAST_OLD_PROMPT) {
    ${function:global:prompt} = $global:_BLAST_OLD_PROMPT
  } elseif ($null -ne ${function:global:prompt}) {
    $ExecutionContext.SessionState.InvokeProvider.Item.Remove('Function:\prompt', $false)
  }
  $ExecutionContext.SessionState.PSVariable.Remove('global:_BLAST_OLD_PROMPT')
  $ExecutionContext.SessionState.PSVariable.Remove('global:_BLAST_PROMPT_SAVED')
  $ExecutionContext.SessionState.PSVariable.Remove('global:_BLAST_PROMPT')
}
