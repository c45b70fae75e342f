/**
 * Nothing at shell start-up: `blast init --install` writes the function into a generated file under
 * BLAST_HOME/init and an rc line that only sources it. Real bash, zsh and fish, started
 * interactively with a PATH that holds nothing but the shell (no node, no blast): the function is
 * there and nothing complained, so no process was started. A stale stamp (or a newly linked
 * plugin) makes the next call rewrite the file and the shell source it again; an old
 * `eval "$(blast init bash)"` block is upgraded in place, the rest of the rc file byte for byte.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BEGIN, END } from '../src/lib/shell/rc-install.js';
import { blast, BIN, FIXTURES, linkPlugin, sandbox, type Sandbox } from './support/cli.js';
import { hasShell } from './support/shells.js';

const SHELLS = [
  { name: 'bash', rc: '.bashrc', ext: 'bash', show: 'declare -f blast' },
  { name: 'zsh', rc: '.zshrc', ext: 'zsh', show: 'functions blast' },
  { name: 'fish', rc: '.config/fish/config.fish', ext: 'fish', show: 'functions blast' },
] as const;

const HEADER = '# managed by `blast init --install`; `blast init --uninstall` removes it';
const stampOf = (text: string) => /"stamp":"([^"]*)"/.exec(text)?.[1];

/** Run an interactive shell with the sandbox's HOME: `-i -c CODE`. */
function interactive(box: Sandbox, shell: string, code: string, path?: string) {
  const r = spawnSync(shell, ['-i', '-c', code], {
    cwd: box.home,
    env: { ...box.env, ...(path ? { PATH: path } : {}), TERM: 'dumb' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** What interactive bash says about a missing terminal: not about Blast. */
const noise = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l && !/no job control|cannot set terminal process group|Inappropriate ioctl/.test(l));

describe('blast init --install: a generated file, an rc line that only sources it', function () {
  this.timeout(180_000);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  for (const shell of SHELLS) {
    describe(shell.name, function () {
      before(function () {
        if (!hasShell(shell.name)) this.skip();
      });
      const file = () => join(box.blastHome, 'init', `blast.${shell.ext}`);
      const rc = () => join(box.home, shell.rc);

      it('the rc block sources the file; an interactive start with only the shell on PATH has the function and starts nothing', () => {
        const r = blast(box, ['init', shell.name, '--install', '--json']);
        expect(r.status, r.stderr).to.equal(0);
        const result = JSON.parse(r.stdout) as { line: string; initFile: string };
        expect(result.initFile).to.equal(file());
        expect(readFileSync(rc(), 'utf8')).to.equal(`${BEGIN}\n${HEADER}\n${result.line}\n${END}\n`);
        expect(result.line).not.to.include(' init ');
        expect(readFileSync(file(), 'utf8')).to.include('BLAST_SHELL_INIT=');
        // Nothing but the shell on PATH: running node or blast at start-up would fail, loudly.
        const bin = join(box.root, 'only-shell');
        mkdirSync(bin);
        const real = spawnSync('sh', ['-c', `command -v ${shell.name}`], { encoding: 'utf8' }).stdout.trim();
        symlinkSync(real, join(bin, shell.name));
        const started = interactive(
          box,
          join(bin, shell.name),
          `${shell.show} >/dev/null && echo defined`,
          bin,
        );
        expect(started.stdout.trim()).to.equal('defined');
        expect(noise(started.stderr)).to.deep.equal([]);
      });

      it('a stale stamp: the next call rewrites the file and the shell runs the new function at once', () => {
        expect(blast(box, ['init', shell.name, '--install']).status).to.equal(0);
        const fresh = readFileSync(file(), 'utf8');
        const stamp = stampOf(fresh)!;
        writeFileSync(file(), fresh.replace(`"stamp":"${stamp}"`, '"stamp":"from-an-older-blast"'));
        const r = interactive(box, shell.name, `blast list >/dev/null; ${shell.show}`);
        expect(r.status, r.stderr).to.equal(0);
        expect(readFileSync(file(), 'utf8')).to.equal(fresh);
        expect(stampOf(r.stdout), r.stdout).to.equal(stamp);
      });
    });
  }

  it('a newly linked plugin changes the stamp: the function notices on its next call', () => {
    expect(blast(box, ['init', 'bash', '--install']).status).to.equal(0);
    const file = join(box.blastHome, 'init', 'blast.bash');
    const before = stampOf(readFileSync(file, 'utf8'));
    linkPlugin(box, join(FIXTURES, 'blast-fixture'));
    const r = interactive(box, 'bash', 'blast list >/dev/null; declare -f blast');
    const after = stampOf(readFileSync(file, 'utf8'));
    expect(after).not.to.equal(before);
    expect(stampOf(r.stdout)).to.equal(after);
  });

  it('upgrades an old eval block in place: the rest of the rc file stays byte for byte; again changes nothing', () => {
    const rc = join(box.home, '.bashrc');
    const before = '# mine\nexport A=1 # CRLF here\r\n\n';
    const after = 'alias ll="ls -l"\n# no newline at the end';
    const old = `${BEGIN}\n${HEADER}\neval "$('${BIN}' init bash)"\n${END}\n`;
    writeFileSync(rc, before + old + after);
    const r = blast(box, ['init', 'bash', '--install', '--json']);
    expect(r.status, r.stderr).to.equal(0);
    const { line } = JSON.parse(r.stdout) as { line: string };
    expect(line).to.equal(
      `if [ -f '${join(box.blastHome, 'init', 'blast.bash')}' ]; then . '${join(box.blastHome, 'init', 'blast.bash')}'; fi`,
    );
    expect(readFileSync(rc, 'utf8')).to.equal(`${before}${BEGIN}\n${HEADER}\n${line}\n${END}\n${after}`);
    expect(JSON.parse(blast(box, ['init', 'bash', '--install', '--json']).stdout)).to.include({
      changed: false,
    });
    const r2 = interactive(box, 'bash', 'type -t blast');
    expect(r2.stdout.trim()).to.equal('function');
  });

  it('--uninstall removes the block and the generated files (fish: its completions too)', () => {
    expect(blast(box, ['init', 'fish', '--install']).status).to.equal(0);
    const completions = join(box.blastHome, 'init', 'fish-completions', 'blast.fish');
    expect(readFileSync(completions, 'utf8')).to.include('complete -c blast');
    expect(blast(box, ['init', 'fish', '--uninstall']).status).to.equal(0);
    expect(existsSync(join(box.blastHome, 'init', 'blast.fish'))).to.equal(false);
    expect(existsSync(completions)).to.equal(false);
    expect(readFileSync(join(box.home, '.config', 'fish', 'config.fish'), 'utf8')).to.equal('');
  });

  it('powershell: a .ps1 with a BOM, dot-sourced by the profile only when it exists', () => {
    const r = blast(box, ['init', 'powershell', '--install', '--json']);
    expect(r.status, r.stderr).to.equal(0);
    const { line, initFile } = JSON.parse(r.stdout) as { line: string; initFile: string };
    expect(initFile.endsWith('blast.ps1')).to.equal(true);
    expect(line).to.equal(`if ([System.IO.File]::Exists('${initFile}')) { . '${initFile}' }`);
    const bytes = readFileSync(initFile);
    expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).to.include("'BLAST_SHELL_INIT'");
  });

  it('bash: an --auto install keeps --auto through a regeneration', () => {
    expect(blast(box, ['init', 'bash', '--install', '--auto']).status).to.equal(0);
    const file = join(box.blastHome, 'init', 'blast.bash');
    const fresh = readFileSync(file, 'utf8');
    expect(fresh).to.include('_blast_auto_hook');
    writeFileSync(file, fresh.replace(/"stamp":"[^"]*"/, '"stamp":"old"'));
    expect(interactive(box, 'bash', 'blast list >/dev/null').status).to.equal(0);
    expect(readFileSync(file, 'utf8')).to.equal(fresh);
  });
});
