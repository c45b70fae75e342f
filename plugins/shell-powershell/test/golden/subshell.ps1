# Blast subshell: pwsh has run the user's profiles already; now the blast function, then the activation.
function global:blast {
  $PSNativeCommandUseErrorActionPreference = $false
  $_BLAST_FN_FILE = [System.IO.Path]::GetTempFileName()
  try {
    $_BLAST_FN_SHELL = [System.Environment]::GetEnvironmentVariable('BLAST_SHELL')
    $_BLAST_FN_SCRIPT = [System.Environment]::GetEnvironmentVariable('BLAST_SHELL_SCRIPT')
    $_BLAST_FN_PID = [System.Environment]::GetEnvironmentVariable('BLAST_SHELL_PID')
    $global:LASTEXITCODE = 127
    try {
      [System.Environment]::SetEnvironmentVariable('BLAST_SHELL', 'powershell')
      [System.Environment]::SetEnvironmentVariable('BLAST_SHELL_SCRIPT', $_BLAST_FN_FILE)
      [System.Environment]::SetEnvironmentVariable('BLAST_SHELL_PID', [string]$PID)
      & '/opt/Blast''s “tools”/it’’s/bin/run.js' @args
    } finally {
      if ($null -eq $_BLAST_FN_SHELL) { [System.Environment]::SetEnvironmentVariable('BLAST_SHELL', [NullString]::Value) } else { [System.Environment]::SetEnvironmentVariable('BLAST_SHELL', $_BLAST_FN_SHELL) }
      if ($null -eq $_BLAST_FN_SCRIPT) { [System.Environment]::SetEnvironmentVariable('BLAST_SHELL_SCRIPT', [NullString]::Value) } else { [System.Environment]::SetEnvironmentVariable('BLAST_SHELL_SCRIPT', $_BLAST_FN_SCRIPT) }
      if ($null -eq $_BLAST_FN_PID) { [System.Environment]::SetEnvironmentVariable('BLAST_SHELL_PID', [NullString]::Value) } else { [System.Environment]::SetEnvironmentVariable('BLAST_SHELL_PID', $_BLAST_FN_PID) }
    }
    $_BLAST_FN_STATUS = $global:LASTEXITCODE
    if ($_BLAST_FN_STATUS -ge 0 -and $_BLAST_FN_STATUS -le 128) {
      $_BLAST_FN_CODE = [System.IO.File]::ReadAllText($_BLAST_FN_FILE, [System.Text.Encoding]::UTF8)
      if ($_BLAST_FN_CODE.Length -gt 0) { . ([ScriptBlock]::Create($_BLAST_FN_CODE)) }
    }
    $global:LASTEXITCODE = $_BLAST_FN_STATUS
  } finally {
    [System.IO.File]::Delete($_BLAST_FN_FILE)
  }
}

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
