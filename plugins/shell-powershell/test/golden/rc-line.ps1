Invoke-Expression ((& '/opt/Blast''s “tools”/it’’s/bin/run.js' init powershell) -join [System.Environment]::NewLine)
