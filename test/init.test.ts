/**
 * `blast init`: shell detection, rc installation (real files in sandbox homes: idempotence, exact
 * round trips, CRLF, BOM, modes, symlinks), and the installed line at work in real interactive
 * shells — bash and zsh, and elvish through a third-party plugin the core knows nothing about.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { applyRc, BEGIN, END, withBlock, withoutBlock } from '../src/lib/shell/rc-install.js';
import { shellName } from '../src/lib/shell/adapters.js';
import {
  blast,
  BIN,
  FIXTURES,
  linkPlugin,
  REPO,
  sandbox,
  SHARED_CACHE,
  throughFunction,
  type Sandbox,
} from './support/cli.js';
import { cleanEnv } from './support/shells.js';
import { diffSnapshots, TmuxShell, type TmuxDialect } from './support/tmux.js';

const SLOW = 180_000;
const ELVISH_EXAMPLE = join(REPO, 'examples', 'blast-shell-elvish');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Build the example plugin the way its author would; the root build leaves it out on purpose. */
let built = false;
export function buildElvishExample(): void {
  if (built) return;
  const run = spawnSync('npx', ['tsc', '-b', ELVISH_EXAMPLE], { cwd: REPO, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`building the elvish example failed:\n${run.stdout}${run.stderr}`);
  built = true;
}

/** Blast's data for a session whose HOME is `home`: everything under it. */
const blastEnv = (home: string) => ({
  BLAST_HOME: join(home, 'blast home'),
  BLAST_CACHE_DIR: SHARED_CACHE,
  XDG_DATA_HOME: join(home, '.local', 'share'),
  XDG_CONFIG_HOME: join(home, '.config'),
  XDG_CACHE_HOME: join(home, '.cache'),
  NO_COLOR: '1',
  // Linked plugins are ESM; without this, oclif warns on every command that it will not transpile them.
});

/** The CLI as the user of a tmux session's HOME runs it (before the session starts). */
function cliAt(home: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    env: cleanEnv({ HOME: home, ...blastEnv(home) }),
    cwd: home,
    encoding: 'utf8',
  });
  return { status: run.status ?? 128, stdout: run.stdout, stderr: run.stderr };
}

describe('blast init', function () {
  this.timeout(120_000);

  describe('shell names from process names', () => {
    const cases: Array<[string, string]> = [
      ['bash', 'bash'],
      ['-bash', 'bash'],
      ['/usr/bin/zsh', 'zsh'],
      ['-zsh', 'zsh'],
      ['zsh-5.9', 'zsh'],
      ['zsh5', 'zsh'],
      ['bash5.2', 'bash'],
      ['/opt/microsoft/powershell/7/pwsh', 'pwsh'],
      ['C:\\Program Files\\PowerShell\\7\\pwsh.exe', 'pwsh'],
      ['PowerShell.exe', 'powershell'],
      ['fish', 'fish'],
      ['elvish', 'elvish'],
    ];
    for (const [program, name] of cases)
      it(`${program} → ${name}`, () => expect(shellName(program)).to.equal(name));
  });

  describe('rc blocks in real files', () => {
    let box: Sandbox;
    beforeEach(() => (box = sandbox()));
    afterEach(() => box.cleanup());
    const LINE = 'eval "$(blast init bash)"';
    const rc = () => join(box.home, '.bashrc');
    const install = (line = LINE, encoding: 'utf8' | 'utf8-bom' = 'utf8') =>
      applyRc({ file: rc(), action: 'install', line, encoding });
    const uninstall = () => applyRc({ file: rc(), action: 'uninstall' });
    const bytes = () => readFileSync(rc());

    it('creates the file and its directories, once; a second run changes nothing and says so', () => {
      const file = join(box.home, '.config', 'deep', 'rc');
      const first = applyRc({ file, action: 'install', line: LINE });
      expect(first).to.include({ changed: true, created: true });
      expect(first.backup).to.equal(undefined);
      expect(readFileSync(file, 'utf8')).to.match(
        /^# >>> blast initialize >>>\n# managed by .*\neval "\$\(blast init bash\)"\n# <<< blast initialize <<<\n$/,
      );
      const again = applyRc({ file, action: 'install', line: LINE });
      expect(again).to.include({ changed: false, created: false });
      expect(readdirSync(dirname(file))).to.deep.equal(['rc']); // no backup, no temp file
    });

    const originals: Record<string, Buffer> = {
      'ends with a newline': Buffer.from('export A=1\n# a comment\n'),
      'lacks a final newline': Buffer.from('export A=1\nalias ll="ls -l"'),
      'is empty': Buffer.alloc(0),
      'is CRLF': Buffer.from('export A=1\r\necho hi\r\n'),
      'is CRLF without a final newline': Buffer.from('export A=1\r\necho hi'),
      'is not UTF-8': Buffer.from([0x23, 0x20, 0xe9, 0xff, 0xfe, 0x0a, 0x41, 0x3d, 0x31, 0x0a]),
      'has a BOM': Buffer.concat([BOM, Buffer.from('Set-Alias ll Get-ChildItem\n')]),
      'has blank lines and trailing spaces': Buffer.from('\n\n  \nexport A=1   \n\n'),
    };
    for (const [what, original] of Object.entries(originals)) {
      it(`install, install again, uninstall: byte-identical when the file ${what}`, () => {
        writeFileSync(rc(), original);
        const first = install();
        expect(first.changed).to.equal(true);
        expect(readFileSync(first.backup!).equals(original), 'backup').to.equal(true);
        const installed = bytes();
        expect(installed.subarray(0, original.length).equals(original), 'only appended to').to.equal(true);
        expect(install().changed).to.equal(false);
        expect(bytes().equals(installed)).to.equal(true);
        expect(
          readFileSync(first.backup!).equals(original),
          'an unchanged run leaves the backup alone',
        ).to.equal(true);
        expect(uninstall().changed).to.equal(true);
        expect(bytes().equals(original), bytes().toString('latin1')).to.equal(true);
        expect(uninstall().changed).to.equal(false);
      });
    }

    it('writes the block with the file’s own CRLF line ends', () => {
      writeFileSync(rc(), 'echo one\r\necho two\r\n');
      install();
      const text = bytes().toString('latin1');
      expect(text.replaceAll('\r\n', '')).not.to.include('\n');
      expect(text).to.include(`\r\n${BEGIN}\r\n`);
      expect(text.endsWith(`${END}\r\n`)).to.equal(true);
    });

    it('utf8-bom: a new file gets a BOM, a file with one keeps exactly one, a file without stays so', () => {
      install(LINE, 'utf8-bom');
      expect(bytes().subarray(0, 3).equals(BOM)).to.equal(true);
      expect(bytes().subarray(3, 6).equals(BOM)).to.equal(false);
      expect(install(LINE, 'utf8-bom').changed).to.equal(false);
      uninstall();
      expect(bytes().equals(BOM)).to.equal(true);
      writeFileSync(rc(), 'Write-Host hi\n');
      install(LINE, 'utf8-bom');
      expect(bytes().subarray(0, 3).equals(BOM)).to.equal(false);
    });

    it('a BOM file whose first line is the block still uninstalls to the bare BOM', () => {
      writeFileSync(rc(), BOM);
      install('Invoke-Expression x', 'utf8-bom');
      expect(
        bytes()
          .subarray(0, 3 + BEGIN.length)
          .toString('latin1'),
      ).to.equal(BOM.toString('latin1') + BEGIN);
      expect(install('Invoke-Expression x', 'utf8-bom').changed).to.equal(false);
      uninstall();
      expect(bytes().equals(BOM)).to.equal(true);
    });

    for (const mode of [0o600, 0o640, 0o664, 0o755]) {
      it(`keeps the file's mode ${mode.toString(8)} (and gives the backup the same)`, () => {
        writeFileSync(rc(), 'export A=1\n');
        chmodSync(rc(), mode);
        const result = install();
        expect(statSync(rc()).mode & 0o7777).to.equal(mode);
        expect(statSync(result.backup!).mode & 0o7777).to.equal(mode);
        uninstall();
        expect(statSync(rc()).mode & 0o7777).to.equal(mode);
      });
    }

    it('writes through a symlinked rc file (dotfiles) and leaves the link a link', () => {
      const real = join(box.home, 'dotfiles', 'bashrc');
      mkdirSync(dirname(real));
      writeFileSync(real, 'export A=1\n');
      symlinkSync(real, rc());
      install();
      expect(lstatSync(rc()).isSymbolicLink()).to.equal(true);
      expect(readlinkSync(rc())).to.equal(real);
      expect(readFileSync(real, 'utf8')).to.include(LINE);
      expect(readdirSync(dirname(real))).to.deep.equal(['bashrc']); // backup beside the link, not in dotfiles
      uninstall();
      expect(readFileSync(real, 'utf8')).to.equal('export A=1\n');
    });

    it('a new line replaces the block in place; what follows the block is kept', () => {
      writeFileSync(rc(), 'before\n');
      install('old line');
      writeFileSync(rc(), bytes().toString('utf8') + 'after\n');
      const result = install('new line');
      expect(result.changed).to.equal(true);
      const text = bytes().toString('utf8');
      expect(text).to.match(
        /^before\n# >>> blast initialize >>>\n.*\nnew line\n# <<< blast initialize <<<\nafter\n$/,
      );
      expect(text).not.to.include('old line');
      uninstall();
      expect(bytes().toString('utf8')).to.equal('before\nafter\n');
    });

    it('merges duplicated blocks into one', () => {
      const block = withBlock('', 'x');
      writeFileSync(rc(), `a\n${block}b\n${block}c\n`);
      install('x');
      expect(bytes().toString('utf8')).to.equal(`a\n${block}b\nc\n`);
    });

    it('refuses a begin marker without its end marker, and touches nothing', () => {
      const broken = `export A=1\n${BEGIN}\neval stuff\n`;
      writeFileSync(rc(), broken);
      expect(() => install()).to.throw(/without its "# <<< blast initialize <<<" line/);
      expect(() => uninstall()).to.throw(/cannot tell where its block ends/);
      expect(bytes().toString('utf8')).to.equal(broken);
      expect(existsSync(rc() + '.blast-backup')).to.equal(false);
    });

    it('withoutBlock leaves a file without a block as it is', () => {
      for (const text of ['', 'a', 'a\n', '# >>> blast initialize >>> not alone\n'])
        expect(withoutBlock(text)).to.equal(text);
    });
  });

  describe('through the CLI', () => {
    let box: Sandbox;
    beforeEach(() => (box = sandbox()));
    afterEach(() => box.cleanup());
    const json = (args: string[], options: Parameters<typeof blast>[2] = {}) => {
      const run = blast(box, [...args, '--json'], options);
      expect(run.status, run.stderr + run.stdout).to.equal(0);
      return JSON.parse(run.stdout) as Record<string, unknown>;
    };

    it('an adapter without rcLine: a clear error, nothing written; printing the function still works', () => {
      linkPlugin(box, join(FIXTURES, 'blast-shell-minimal'));
      const run = blast(box, ['init', 'minsh', '--install']);
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include('The minsh adapter cannot install itself in an rc file');
      expect(run.stderr).not.to.match(/\n\s+at /);
      expect(existsSync(join(box.home, '.minshrc'))).to.equal(false);
      expect(blast(box, ['init', 'minsh']).stdout).to.match(/^# minsh function for '/);
    });

    it('elvish (a linked third-party plugin): install, again, uninstall, with --json and plain messages', () => {
      buildElvishExample();
      linkPlugin(box, ELVISH_EXAMPLE);
      const file = join(box.home, '.config', 'elvish', 'rc.elv');
      const first = json(['init', 'elvish', '--install']);
      expect(first).to.include({ shell: 'elvish', file, action: 'install', changed: true, created: true });
      expect(first.line).to.equal(`eval ((external '${BIN.replaceAll("'", "''")}') init elvish | slurp)`);
      expect(readFileSync(file, 'utf8')).to.include(first.line as string);
      const again = blast(box, ['init', 'elvish', '--install']);
      expect(again.stdout).to.equal(
        '~/.config/elvish/rc.elv already loads the blast function; nothing changed.\n',
      );
      const removed = blast(box, ['init', 'elvish', '--uninstall']);
      expect(removed.status, removed.stderr).to.equal(0);
      expect(removed.stdout).to.match(
        /^Removed the blast block from ~\/\.config\/elvish\/rc\.elv \(the previous version is in ~\/\.config\/elvish\/rc\.elv\.blast-backup\)/,
      );
      expect(readFileSync(file, 'utf8')).to.equal('');
      expect(json(['init', 'elvish', '--uninstall'])).to.include({ changed: false });
    });

    it('keeps the first backup (the rc file before Blast) through later installs and uninstalls', () => {
      const rc = join(box.home, '.bashrc');
      const original = 'export BEFORE_BLAST=1\n';
      writeFileSync(rc, original);
      expect(json(['init', 'bash', '--install'])).to.include({ changed: true, backup: `${rc}.blast-backup` });
      writeFileSync(rc, readFileSync(rc, 'utf8') + 'export LATER=1\n');
      const removed = blast(box, ['init', 'bash', '--uninstall']);
      expect(removed.status, removed.stderr).to.equal(0);
      expect(removed.stdout).to.include('(the version from before Blast stays in ~/.bashrc.blast-backup)');
      expect(readFileSync(rc, 'utf8')).to.equal(original + 'export LATER=1\n');
      expect(json(['init', 'bash', '--install'])).to.include({ changed: true, backupKept: true });
      expect(readFileSync(`${rc}.blast-backup`, 'utf8')).to.equal(original);
      expect(readdirSync(box.home).filter((f) => f.includes('.bashrc'))).to.have.members([
        '.bashrc',
        '.bashrc.blast-backup',
      ]);
    });

    it('the line names `blast` when the blast on PATH is this installation, else the absolute path', () => {
      buildElvishExample();
      linkPlugin(box, ELVISH_EXAMPLE);
      const binDir = join(box.root, 'bin');
      mkdirSync(binDir);
      symlinkSync(BIN, join(binDir, 'blast'));
      const path = `${binDir}:${box.env.PATH}`;
      const viaPath = json(['init', 'elvish', '--install'], { env: { PATH: path } });
      expect(viaPath.line).to.equal("eval ((external 'blast') init elvish | slurp)");
      const other = join(box.root, 'other');
      mkdirSync(other);
      writeFileSync(join(other, 'blast'), '#!/bin/sh\n', { mode: 0o755 });
      const elsewhere = json(['init', 'elvish', '--install'], { env: { PATH: `${other}:${path}` } });
      expect(elsewhere).to.include({ changed: true });
      expect(elsewhere.line).to.include(BIN);
    });

    it('--install and --uninstall exclude each other; two different shells named is a usage error', () => {
      expect(blast(box, ['init', 'bash', '--install', '--uninstall']).status).to.equal(2);
      const both = blast(box, ['init', 'bash', '--shell', 'zsh']);
      expect(both.status).to.equal(2);
      expect(both.stderr).to.include('Two shells named');
      expect(json(['init', 'bash', '--shell', 'bash'])).to.include({ shell: 'bash' });
      expect(json(['init', '--shell', 'zsh'])).to.include({ shell: 'zsh' });
    });

    it('powershell: the profile is written with a BOM', function () {
      const run = blast(box, ['init', 'powershell', '--install', '--json']);
      expect(run.status, run.stderr).to.equal(0);
      const { file } = JSON.parse(run.stdout) as { file: string };
      expect(file).to.equal(join(box.home, '.config', 'powershell', 'Microsoft.PowerShell_profile.ps1'));
      const content = readFileSync(file);
      expect(content.subarray(0, 3).equals(BOM)).to.equal(true);
      expect(content.subarray(3).toString('utf8')).to.match(/^# >>> blast initialize >>>\n/);
      expect(blast(box, ['init', 'powershell', '--install']).stdout).to.include('nothing changed');
    });
  });

  describe('shell detection (real process trees)', () => {
    let box: Sandbox;
    beforeEach(() => (box = sandbox()));
    afterEach(() => box.cleanup());
    /** `blast init --json` run by `argv` (a shell's -c); `; true` keeps the shell from exec'ing node. */
    const detected = (argv: string[], env: Record<string, string> = {}) => {
      const [command, ...args] = argv;
      const run = spawnSync(command!, args, { env: { ...box.env, ...env }, encoding: 'utf8' });
      if (run.status !== 0) return `status ${run.status}: ${run.stdout}${run.stderr}`;
      return (JSON.parse(run.stdout) as { shell: string }).shell;
    };
    const cli = `'${process.execPath}' '${BIN}' init --json; true`;

    it('from the parent process: bash, zsh', function () {
      expect(detected(['bash', '-c', cli], { SHELL: '/bin/zsh' })).to.equal('bash');
      expect(detected(['zsh', '-c', cli], { SHELL: '/bin/bash' })).to.equal('zsh');
    });

    it('through launchers (sh -c, env) up to the shell', () => {
      const nested = `sh -c "env ${cli.replaceAll('"', '\\"')}"; true`;
      expect(detected(['zsh', '-c', nested], { SHELL: '/bin/bash' })).to.equal('zsh');
    });

    it('a versioned or renamed shell binary: zsh-5.9, pwsh (an alias of powershell)', function () {
      const dir = join(box.root, 'shells');
      mkdirSync(dir);
      symlinkSync('/bin/zsh', join(dir, 'zsh-5.9'));
      expect(detected([join(dir, 'zsh-5.9'), '-c', cli], { SHELL: '/bin/bash' })).to.equal('zsh');
      const pwsh = blast(box, ['init', 'pwsh', '--json']);
      expect(pwsh.status, pwsh.stderr).to.equal(0);
      symlinkSync('/bin/bash', join(dir, 'pwsh'));
      expect(detected([join(dir, 'pwsh'), '-c', cli], { SHELL: '/bin/bash' })).to.equal('powershell');
    });

    it('$SHELL when the parent is no shell (here: python)', () => {
      const py = `import subprocess, sys; sys.exit(subprocess.run([${JSON.stringify(process.execPath)}, ${JSON.stringify(BIN)}, 'init', '--json']).returncode)`;
      expect(detected(['python3', '-c', py], { SHELL: '/usr/bin/zsh' })).to.equal('zsh');
      const none = detected(['python3', '-c', py], { SHELL: '' });
      expect(none).to.match(/status 2: .*Cannot tell which shell you use; name it: blast init <.*bash.*>/s);
    });

    it('the shell function’s own shell wins (BLAST_SHELL)', () => {
      const run = throughFunction(box, ['init', '--json'], { shell: 'zsh', env: { SHELL: '/bin/bash' } });
      expect(run.status, run.stderr).to.equal(0);
      expect(JSON.parse(run.stdout)).to.include({ shell: 'zsh' });
    });
  });
});

/** The rc line at work: interactive shells whose rc file only `blast init <shell> --install` wrote. */
for (const shell of ['bash', 'zsh']) {
  describe(`interactive ${shell} whose rc file blast init --install wrote`, function () {
    this.timeout(SLOW);
    let sh: TmuxShell | undefined;
    afterEach(async () => {
      await sh?.kill();
      sh = undefined;
    });

    it('blast start demo and blast kill work; the shell is exactly as before', async function () {
      let installed: ReturnType<typeof cliAt> | undefined;
      sh = await TmuxShell.start({
        shell,
        env: (home) => {
          installed = cliAt(home, ['init', shell, '--install']);
          return blastEnv(home);
        },
      });
      expect(installed!.status, installed!.stderr).to.equal(0);
      const rcFile = join(sh.home, shell === 'bash' ? '.bashrc' : '.zshrc');
      expect(readFileSync(rcFile, 'utf8')).to.match(
        // The line sources Blast's generated file (no process at start-up).
        /^# >>> blast initialize >>>\n.*\n.*\/init\/blast\.(bash|zsh)'; fi\n# <<< blast initialize <<<\n$/,
      );
      const before = await sh.snapshot();
      expect(await sh.run('blast start demo', SLOW)).to.equal(0);
      const out = join(sh.out, 'venv');
      expect(await sh.run(`printf '%s' "$VIRTUAL_ENV" >| '${out}'`)).to.equal(0);
      expect(readFileSync(out, 'utf8')).to.equal(join(sh.env.BLAST_HOME!, 'envs', 'demo'));
      expect(await sh.run('blast kill', SLOW)).to.equal(0);
      expect(diffSnapshots(before, await sh.snapshot())).to.deep.equal([]);
    });
  });
}

/** elvish as the tmux harness needs it; the snapshot's prompt is the prompt function's identity and output. */
const elvishQuote = (v: string) => `'${v.replaceAll("'", "''")}'`;
const elvishDialect: TmuxDialect = {
  rcFiles: [],
  quote: elvishQuote,
  // Typed lines go through `attempt`, which records failure in $_st (elvish has no $?).
  status: (file) => `echo $_st > ${elvishQuote(file)}`,
  snapshot: (f) =>
    [
      'set _st = 0',
      `e:env -0 > ${elvishQuote(f.env)}`,
      `print set"\\x00"(to-string (eq $edit:prompt $_p0))' '(str:join '' [($edit:prompt)]) > ${elvishQuote(f.prompt)}`,
      ...[f.variables, f.functions, f.options, f.traps].map((file) => `print '' > ${elvishQuote(file)}`),
    ].join('; '),
  untypeable: /\n/,
  volatile: new Set(),
};
const attempt = (line: string) => `set _st = 0; try { ${line} } catch e { set _st = 1 }`;

const ELVISH_RC = [
  'use str',
  "set edit:prompt = { put 'user> ' }",
  'set edit:rprompt = { }',
  'var _st = 0',
  'var _p0 = $edit:prompt',
  '',
].join('\n');

describe('a third-party shell plugin: elvish from examples/blast-shell-elvish', function () {
  this.timeout(SLOW);
  let sh: TmuxShell | undefined;
  before(function () {
    buildElvishExample();
  });
  afterEach(async () => {
    await sh?.kill();
    sh = undefined;
  });

  it('the core knows nothing of elvish: no mention in src/, bin/, plugins/ or package.json', () => {
    const grep = spawnSync(
      'grep',
      ['-rli', 'elvish', 'src', 'bin', 'plugins', 'package.json', '--exclude-dir=node_modules'],
      {
        cwd: REPO,
        encoding: 'utf8',
      },
    );
    expect(grep.status, grep.stderr).to.equal(1); // 1: no match
    expect(grep.stdout).to.equal('');
  });

  it('is written only against the public contract', () => {
    const src = join(ELVISH_EXAMPLE, 'src');
    const files = ['adapter.ts', 'hooks/shells.ts'].map((f) => readFileSync(join(src, f), 'utf8'));
    const imports = files.flatMap((text) => [...text.matchAll(/^import (type )?.* from '([^']+)';$/gm)]);
    for (const [line, type, from] of imports) {
      if (from!.startsWith('node:') || from!.startsWith('./') || from!.startsWith('../')) continue;
      expect(type, line).to.equal('type '); // the contract and @oclif/core: types only
      expect(['blast/contract', 'blast/hooks', '@oclif/core'], line).to.include(from); // blast/hooks: its old name
    }
    const pjson = JSON.parse(readFileSync(join(ELVISH_EXAMPLE, 'package.json'), 'utf8'));
    expect(pjson.oclif.hooks.shells).to.equal('./dist/hooks/shells.js');
    expect(pjson.oclif.blast.apiVersion).to.equal('^1.1.0');
    const rootBuild = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts.build as string;
    expect(rootBuild).not.to.include('examples');
  });

  it('linked: blast init elvish prints code elvish compiles; without the link there is no elvish', () => {
    const box = sandbox();
    try {
      const unknown = blast(box, ['init', 'elvish']);
      expect(unknown.status).to.equal(2);
      expect(unknown.stderr).to.include('no adapter for the shell "elvish"');
      linkPlugin(box, ELVISH_EXAMPLE);
      const run = blast(box, ['init', 'elvish']);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.include('fn blast {|@args|');
      const file = join(box.root, 'init.elv');
      writeFileSync(file, run.stdout);
      const compiled = spawnSync('elvish', ['-compileonly', file], { encoding: 'utf8' });
      expect(compiled.status, compiled.stdout + compiled.stderr).to.equal(0);
      expect(blast(box, ['init', 'elv', '--json']).stdout).to.include('"shell": "elvish"');
    } finally {
      box.cleanup();
    }
  });

  it('round trip in a real interactive elvish whose rc.elv blast init --install wrote: start, switch, kill', async () => {
    let setup: Array<ReturnType<typeof cliAt>> = [];
    sh = await TmuxShell.start({
      shell: 'elvish',
      args: [],
      dialect: elvishDialect,
      files: { '.config/elvish/rc.elv': ELVISH_RC },
      env: (home) => {
        setup = [
          cliAt(home, ['plugins', 'link', '--no-install', ELVISH_EXAMPLE]),
          cliAt(home, ['init', 'elvish', '--install']),
        ];
        return blastEnv(home);
      },
    });
    for (const step of setup) expect(step.status, step.stderr).to.equal(0);
    const s = sh;
    const before = await s.snapshot();
    expect(before.prompt).to.equal('$true user> ');
    expect(await s.prompt()).to.equal('user>');

    const read = async (code: string) => {
      const file = join(s.out, 'read');
      expect(await s.run(attempt(`${code} > ${elvishQuote(file)}`), SLOW)).to.equal(0);
      return readFileSync(file, 'utf8');
    };
    const hostile = `it's "quoted" $HOME \`x\` \\ ; é 😀`;
    expect(
      await s.run(attempt(`blast start demo --env ${elvishQuote(`HOSTILE=${hostile}`)}`), SLOW),
    ).to.equal(0);
    const demo = join(s.env.BLAST_HOME!, 'envs', 'demo');
    expect(await read('print $E:VIRTUAL_ENV"|"$E:VIRTUAL_ENV_PROMPT"|"$E:HOSTILE')).to.equal(
      `${demo}|demo|${hostile}`,
    );
    expect(await read('e:which python')).to.equal(join(demo, 'bin', 'python') + '\n');
    expect(await read(`python -c 'import sys; print(sys.prefix)'`)).to.equal(demo + '\n');
    expect(await s.prompt()).to.equal('(demo) user>');

    expect(await s.run(attempt('blast start other'), SLOW)).to.equal(0);
    expect(await read('print $E:VIRTUAL_ENV_PROMPT (has-env HOSTILE)')).to.equal('other $false');
    expect(await s.prompt()).to.equal('(other) user>');

    expect(await s.run(attempt('blast kill'), SLOW)).to.equal(0);
    expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
    expect(await s.prompt()).to.equal('user>');

    // A failing command fails in elvish too, and changes nothing.
    expect(await s.run(attempt('blast start "bad/name"'), SLOW)).to.equal(1);
    expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
  });

  it('without the function: an activated elvish subshell that read the user rc.elv; exit returns unchanged', async () => {
    sh = await TmuxShell.start({
      shell: 'elvish',
      args: [],
      dialect: elvishDialect,
      files: { '.config/elvish/rc.elv': ELVISH_RC + 'set-env FROM_RC yes\n' },
      env: (home) => {
        cliAt(home, ['plugins', 'link', '--no-install', ELVISH_EXAMPLE]);
        return blastEnv(home);
      },
    });
    const s = sh;
    const before = await s.snapshot();
    const outer = s.send(`node ${elvishQuote(BIN)} start demo`);
    for (let i = 0; i < 600 && !(await s.prompt().catch(() => '')).startsWith('(demo) '); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await s.prompt()).to.equal('(demo) user>');
    const file = join(s.out, 'sub');
    const code = `print $E:VIRTUAL_ENV"|"$E:FROM_RC"|"(e:which python) > ${elvishQuote(file)}`;
    expect(await s.run(attempt(code))).to.equal(0);
    const demo = join(s.env.BLAST_HOME!, 'envs', 'demo');
    expect(readFileSync(file, 'utf8')).to.equal(`${demo}|yes|${join(demo, 'bin', 'python')}`);
    await s.keys('-l', 'exit');
    await s.keys('Enter');
    expect(await outer.wait(SLOW)).to.equal(0);
    expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
  });

  it('VIRTUAL_ENV_DISABLE_PROMPT: the prompt function stays the same, VIRTUAL_ENV_PROMPT is set', async () => {
    sh = await TmuxShell.start({
      shell: 'elvish',
      args: [],
      dialect: elvishDialect,
      files: { '.config/elvish/rc.elv': ELVISH_RC + 'set-env VIRTUAL_ENV_DISABLE_PROMPT 1\n' },
      env: (home) => {
        cliAt(home, ['plugins', 'link', '--no-install', ELVISH_EXAMPLE]);
        cliAt(home, ['init', 'elvish', '--install']);
        return blastEnv(home);
      },
    });
    const before = await sh.snapshot();
    expect(await sh.run(attempt('blast start demo'), SLOW)).to.equal(0);
    expect((await sh.snapshot()).prompt).to.equal(before.prompt);
    expect((await sh.snapshot()).env.get('VIRTUAL_ENV_PROMPT')).to.equal('demo');
    expect(await sh.run(attempt('blast kill'), SLOW)).to.equal(0);
    expect(diffSnapshots(before, await sh.snapshot())).to.deep.equal([]);
  });
});
