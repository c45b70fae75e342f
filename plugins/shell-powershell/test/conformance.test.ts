/**
 * PowerShell through the shared shell adapter conformance suite, in real pwsh. Like the rest of
 * this folder, nothing here needs pwsh to be installed: where it is absent the suite is not
 * registered at all (no test, so no skipped test counted as passing) and the scripts are judged by
 * the grammar (scripts.test.ts). PowerShell's `$env:` lives apart from its own variables (no
 * keep/putBack), and its prompt is the `prompt` function, exercised on a terminal only.
 */
import { describeShellAdapter } from '../../../test/support/shell-conformance.js';
import { hasShell } from '../../../test/support/shells.js';
import { powershell } from '../src/adapter.js';

const q = powershell.quote;
/** POSIX single quotes, for the one /bin/sh line that writes `env -0` (pwsh would re-encode it). */
const sh = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

if (hasShell('pwsh')) {
  describeShellAdapter(powershell, {
    argv: ['pwsh', '-NoLogo', '-NoProfile', '-NonInteractive', '-File'],
    ext: 'ps1',
    setup:
      "$ErrorActionPreference = 'Stop'; function __blast_test_source($file) { $__blast_test_local = 1; . $file }",
    source: (file) => `__blast_test_source ${q(file)}`,
    sourceTop: (file) => `. ${q(file)}`,
    dump: (names) =>
      names
        .map(
          (n) =>
            `$v = [System.Environment]::GetEnvironmentVariable(${q(n)}); ` +
            'if ($null -ne $v) { [Console]::Out.Write("set`0$v`0") } else { [Console]::Out.Write("unset`0`0") }',
        )
        .join('\n'),
    envTo: (file) => `& /bin/sh -c ${q(`env -0 > ${sh(file)}`)}`,
    exportVar: (name, value) => `[System.Environment]::SetEnvironmentVariable(${q(name)}, ${value})`,
    exit: 'exit 0',
  });
}
