/**
 * `blast init powershell --install` must write the profile pwsh runs at start-up. pwsh cannot be
 * installed here, so its rule is written out from its source instead (System.Management.Automation,
 * Platform.SelectProductNameForDirectory and the profile path of the console host): on Linux and
 * macOS the configuration directory is `$XDG_CONFIG_HOME/powershell` when XDG_CONFIG_HOME is set and
 * not empty, else `$HOME/.config/powershell`; `$PROFILE` (CurrentUserCurrentHost) is the file
 * `Microsoft.PowerShell_profile.ps1` in it — the host's shell id, `Microsoft.PowerShell`, plus
 * `_profile.ps1`. The CLI decides where to write on its own; the test compares with that rule.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blast, sandbox, type Sandbox } from '../../../test/support/cli.js';
import { BOM } from '../src/subshell.js';
import { checkScript, powershellParser } from './support/powershell.js';

/** Where pwsh (7, Linux and macOS) reads $PROFILE, by its own rule. */
function pwshProfile(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CONFIG_HOME;
  const dir = xdg ? join(xdg, 'powershell') : join(env.HOME!, '.config', 'powershell');
  return join(dir, 'Microsoft.PowerShell_profile.ps1');
}

describe('blast init powershell --install: the profile pwsh reads', function () {
  this.timeout(120_000);
  let box: Sandbox;
  before(() => powershellParser());
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  const cases: Array<{ label: string; xdg: (box: Sandbox) => string | undefined }> = [
    { label: 'XDG_CONFIG_HOME unset', xdg: () => undefined },
    { label: 'XDG_CONFIG_HOME empty', xdg: () => '' },
    { label: 'XDG_CONFIG_HOME outside HOME', xdg: (b) => join(b.root, 'xdg config') },
  ];
  for (const { label, xdg } of cases) {
    it(`${label}: the file is $PROFILE, and what it holds parses`, async () => {
      const config = xdg(box);
      if (config === undefined) delete box.env.XDG_CONFIG_HOME;
      else box.env.XDG_CONFIG_HOME = config;
      const run = blast(box, ['init', 'powershell', '--install', '--json']);
      expect(run.status, run.stderr).to.equal(0);
      const { file, line } = JSON.parse(run.stdout) as { file: string; line: string };
      expect(file).to.equal(pwshProfile(box.env));
      const content = readFileSync(pwshProfile(box.env), 'utf8');
      expect(content.startsWith(BOM)).to.equal(true);
      expect(content).to.include(line);
      await checkScript(content.slice(BOM.length));
    });
  }
});
