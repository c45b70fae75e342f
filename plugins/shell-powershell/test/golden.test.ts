/**
 * Golden files pin the exact output: the blast function, the profile line, an activation and a
 * deactivation, and the subshell (its command line and its script, BOM included). A change to any
 * of them shows as a diff in review. `UPDATE_GOLDEN=1` writes them anew; each is also parsed, so a
 * golden file never pins a script PowerShell would reject.
 */
import { expect } from 'chai';
import type { SubshellContext } from 'blast/contract';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { powershell } from '../src/adapter.js';
import { BOM } from '../src/subshell.js';
import { ACTIVATION, DEACTIVATION } from './support/changes.js';
import { checkScript } from './support/powershell.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const CTX = {
  // A quote of each kind in the path: the golden shows how they are written.
  bin: "/opt/Blast's “tools”/it’s/bin/run.js",
  scriptVariable: 'BLAST_SHELL_SCRIPT',
  shellVariable: 'BLAST_SHELL',
  pidVariable: 'BLAST_SHELL_PID',
} as const;

const SUBSHELL: SubshellContext = {
  ...CTX,
  dir: '/tmp/blast-subshell-Xy12Ab',
  home: '/home/u',
  env: { HOME: '/home/u', PATH: '/usr/bin:/bin', BLAST_SHELL: 'powershell', BLAST_SHELL_SCRIPT: '/tmp/x' },
  activation: powershell.render(ACTIVATION),
};

function subshellSpec(): { spec: string; script: string } {
  const spec = powershell.subshell(SUBSHELL);
  const files = Object.entries(spec.files ?? {});
  const lines = [
    `command: ${JSON.stringify(spec.command)}`,
    ...spec.args.map((a) => `arg: ${JSON.stringify(a)}`),
    ...Object.entries(spec.env ?? {}).map(([k, v]) => `env: ${k}=${JSON.stringify(v)}`),
    ...files.map(([path]) => `file: ${JSON.stringify(path)} (subshell.ps1)`),
  ];
  return { spec: lines.join('\n') + '\n', script: files[0]?.[1] ?? '' };
}

const CASES: Array<{ file: string; content: () => string; powershell: boolean }> = [
  { file: 'init.ps1', content: () => powershell.init(CTX), powershell: true },
  { file: 'rc-line.ps1', content: () => powershell.rcLine!(CTX.bin) + '\n', powershell: true },
  { file: 'activate.ps1', content: () => powershell.render(ACTIVATION), powershell: true },
  { file: 'deactivate.ps1', content: () => powershell.render(DEACTIVATION), powershell: true },
  { file: 'subshell.ps1', content: () => subshellSpec().script, powershell: true },
  { file: 'subshell-spec.txt', content: () => subshellSpec().spec, powershell: false },
];

describe('powershell golden files', () => {
  for (const { file, content, powershell: isScript } of CASES) {
    it(`${file} is exactly as pinned${UPDATE ? ' (updating)' : ''}`, async () => {
      const path = join(GOLDEN, file);
      const actual = content();
      if (isScript) await checkScript(actual.startsWith(BOM) ? actual.slice(1) : actual);
      if (UPDATE) writeFileSync(path, actual);
      expect(existsSync(path), `${basename(path)} is missing: run with UPDATE_GOLDEN=1`).to.equal(true);
      // Compared as bytes: the BOM and every quote character count.
      const want = readFileSync(path);
      expect(
        Buffer.from(actual, 'utf8').equals(want),
        `${file} differs (UPDATE_GOLDEN=1 rewrites it)`,
      ).to.equal(true, `\n--- expected ---\n${want.toString('utf8')}\n--- actual ---\n${actual}`);
    });
  }

  it('the subshell script starts with a BOM and ends with the activation, after the blast function', () => {
    const { script } = subshellSpec();
    expect(script.startsWith(BOM)).to.equal(true);
    expect(script.indexOf('function global:blast')).to.be.lessThan(script.indexOf(SUBSHELL.activation));
    expect(script.endsWith(SUBSHELL.activation)).to.equal(true);
  });
});
