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
