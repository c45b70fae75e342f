/** The adapter as the core meets it: the hook, its names and files, and what it refuses. */
import { expect } from 'chai';
import type { SubshellContext } from 'blast/contract';
import { isAbsolute, join, relative } from 'node:path';
import hook from '../src/hooks/shells.js';
import { powershell } from '../src/adapter.js';

const keep = { action: 'keep' } as const;

describe('powershell adapter', () => {
  it('is what the shells hook returns', async () => {
    const run = hook as unknown as (this: unknown, options: unknown) => Promise<unknown>;
    expect(await run.call({}, {})).to.deep.equal([powershell]);
  });

  it('is named powershell, answers to pwsh, and installs in the pwsh profile with a BOM', () => {
    expect(powershell.name).to.equal('powershell');
    expect(powershell.aliases).to.deep.equal(['pwsh']);
    expect(powershell.rcFile).to.equal('.config/powershell/Microsoft.PowerShell_profile.ps1');
    expect(powershell.rcEncoding).to.equal('utf8-bom');
    expect(powershell.rcLine!('blast')).to.equal(
      "Invoke-Expression ((& 'blast' init powershell) -join [System.Environment]::NewLine)",
    );
  });

  it('renders unset, then set in the given order, then the prompt', () => {
    const code = powershell.render({
      set: [
        ['B', '2'],
        ['A', '1'],
      ],
      unset: ['Z'],
      prompt: { action: 'tag', tag: '(t) ' },
    });
    const at = (s: string) => code.indexOf(s);
    expect(at("('Z', [NullString]::Value)")).to.be.greaterThan(-1);
    expect(at("('Z', [NullString]::Value)")).to.be.lessThan(at("('B', '2')"));
    expect(at("('B', '2')")).to.be.lessThan(at("('A', '1')"));
    expect(at("('A', '1')")).to.be.lessThan(at('function global:prompt'));
  });

  it('leaves the prompt alone on keep', () => {
    const code = powershell.render({ set: [['A', '1']], unset: [], prompt: keep });
    expect(code).to.equal("[System.Environment]::SetEnvironmentVariable('A', '1')\n");
  });

  it('refuses invalid names and NUL values rather than write them', () => {
    expect(() => powershell.render({ set: [['A;B', 'x']], unset: [], prompt: keep })).to.throw(/name/);
    expect(() => powershell.render({ set: [], unset: ['$(x)'], prompt: keep })).to.throw(/name/);
    expect(() => powershell.render({ set: [['', 'x']], unset: [], prompt: keep })).to.throw(/name/);
    expect(() => powershell.render({ set: [['A', 'a\0b']], unset: [], prompt: keep })).to.throw(/NUL/);
    expect(() => powershell.render({ set: [], unset: [], prompt: { action: 'tag', tag: '\0' } })).to.throw(
      /NUL/,
    );
  });

  it('uses the protocol variable names and the CLI path it is given', () => {
    const code = powershell.init({
      bin: '/b/run.js',
      scriptVariable: 'BLAST_SHELL_SCRIPT',
      shellVariable: 'BLAST_SHELL',
      pidVariable: 'BLAST_SHELL_PID',
    });
    expect(code).to.match(/^function global:blast \{\n/);
    expect(code).to.include("SetEnvironmentVariable('BLAST_SHELL', 'powershell')");
    expect(code).to.include("SetEnvironmentVariable('BLAST_SHELL_SCRIPT', $_BLAST_FN_FILE)");
    expect(code).to.include("& '/b/run.js' @args");
  });

  describe('subshell', () => {
    const ctx: SubshellContext = {
      bin: '/b/run.js',
      scriptVariable: 'BLAST_SHELL_SCRIPT',
      shellVariable: 'BLAST_SHELL',
      pidVariable: 'BLAST_SHELL_PID',
      dir: '/tmp/blast-subshell-abc',
      home: '/home/u',
      env: { HOME: '/home/u' },
      activation: "[System.Environment]::SetEnvironmentVariable('VIRTUAL_ENV', '/e')\n",
    };
    const spec = powershell.subshell(ctx);
    const [file, content] = Object.entries(spec.files ?? {})[0] ?? [];

    it('runs pwsh on one script inside its directory, interactive after it', () => {
      expect(spec.command).to.equal('pwsh');
      expect(Object.keys(spec.files ?? {})).to.have.length(1);
      expect(isAbsolute(file!) && !relative(ctx.dir, file!).startsWith('..')).to.equal(true);
      expect(file).to.equal(join(ctx.dir, 'blast-subshell.ps1'));
      // -File takes the rest of the command line: it comes last. No -NoProfile: the profiles run first.
      expect(spec.args).to.deep.equal(['-NoLogo', '-NoExit', '-File', file]);
    });

    it('does not pass the protocol variables on', () => {
      expect(spec.env).to.deep.equal({ BLAST_SHELL_SCRIPT: null, BLAST_SHELL: null });
    });

    it('writes the script as UTF-8 with BOM: the blast function, then the activation last', () => {
      expect(content!.charCodeAt(0)).to.equal(0xfeff);
      expect(content).to.include(powershell.init(ctx));
      expect(content!.endsWith(ctx.activation)).to.equal(true);
    });
  });
});
