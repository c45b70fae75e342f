/**
 * The `blast` shell function from init(), in real non-interactive bash and zsh, driving a fake
 * CLI: the change lands in the calling shell, the status passes through, the file is gone,
 * nothing leaks, under `set -u` and `set -e`, with the user's aliases and traps in place.
 * function-interactive.test.ts covers what needs a terminal (Ctrl-C, the CLI's tty).
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanEnv,
  HOSTILE_VALUES,
  parseDump,
  posixDump,
  runShell,
  tempDir,
} from '../../../test/support/shells.js';
import { bashDialect, zshDialect } from '../../../test/support/tmux.js';
import { FakeCli } from './fake-cli.js';
import { VARIANTS, type Variant } from './variants.js';

const HOSTILE = HOSTILE_VALUES.slice(0, 30).join('|');

/** Shell code writing the sorted names of variables, functions and the INT trap to files. */
function state(variant: Variant, file: string): string {
  return variant.adapter.name === 'bash'
    ? `{ compgen -v; echo --; compgen -A function; echo --; trap -p INT; echo --; set +o; shopt -p; } > '${file}'`
    : `{ print -rl -- "\${(@ok)parameters[@]}"; echo --; print -rl -- "\${(@ok)functions[@]}"; echo --; trap; echo --; set +o; } > '${file}'`;
}

function readState(variant: Variant, file: string): string[] {
  const volatile = variant.adapter.name === 'bash' ? bashDialect.volatile : zshDialect.volatile;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !volatile.has(l));
}

for (const variant of VARIANTS) {
  describe(`the blast function in ${variant.label}`, function () {
    this.timeout(60_000);
    let dir: ReturnType<typeof tempDir>;
    let cli: FakeCli;
    let tmp: string;

    beforeEach(() => {
      dir = tempDir();
      cli = new FakeCli(dir.path);
      tmp = join(dir.path, 'tmp');
      writeFileSync(
        join(dir.path, 'init.sh'),
        variant.adapter.init({
          bin: cli.bin,
          scriptVariable: 'BLAST_SHELL_SCRIPT',
          shellVariable: 'BLAST_SHELL',
          pidVariable: 'BLAST_SHELL_PID',
        }),
      );
    });
    afterEach(() => dir.cleanup());

    /** Run `body` in a shell that has eval'd the function; returns stdout, stderr and status. */
    function run(body: string, options: { flags?: string; prelude?: string } = {}) {
      const script = [
        `set ${options.flags ?? '-u'}`,
        variant.setup,
        `export FAKE_OUT='${cli.out}'`,
        `mkdir -p '${tmp}'`,
        options.prelude ?? '',
        `eval "$(cat '${join(dir.path, 'init.sh')}')"`,
        'st=unset',
        body,
      ].join('\n');
      const result = runShell(variant.argv, script, { dir: dir.path, env: cleanEnv({ TMPDIR: tmp }) });
      expect(existsSync(join(dir.path, 'pwned')), 'quoting of the CLI path').to.equal(false);
      return { ...result, out: result.stdout.toString('utf8') };
    }

    const change = (value: string) =>
      variant.adapter.render({ set: [['CHANGED', value]], unset: ['GONE'], prompt: { action: 'keep' } });

    it('applies the change in the calling shell and passes the exit status through', () => {
      for (const code of [0, 1, 3, 42, 127, 128]) {
        cli.next({ change: change(HOSTILE), code });
        const r = run(`export GONE=1\nblast start demo\nst=$?\n${posixDump(['CHANGED', 'GONE', 'st'])}`);
        expect(r.stderr).to.equal('cli stderr\n');
        const dump = parseDump(r.stdout.subarray(r.stdout.indexOf('cli stdout\n') + 11), [
          'CHANGED',
          'GONE',
          'st',
        ]);
        expect(dump.get('CHANGED')?.toString(), `code ${code}`).to.equal(HOSTILE);
        expect(dump.get('GONE')).to.equal(undefined);
        expect(dump.get('st')?.toString()).to.equal(String(code));
        expect(r.out.startsWith('cli stdout\n'), 'the CLI writes to the terminal directly').to.equal(true);
      }
    });

    it('gives the CLI a private empty file and its shell name, then removes the file', () => {
      cli.next({ change: change('x') });
      const r = run('blast');
      expect(r.status).to.equal(0);
      const { shell, script } = cli.protocol();
      expect(shell).to.equal(variant.adapter.name);
      expect(script.startsWith(tmp + '/')).to.equal(true);
      expect(cli.file()).to.match(/^600 0 /);
      expect(existsSync(script)).to.equal(false);
      expect(readdirSync(tmp)).to.deep.equal([]);
    });

    it('passes every argument byte for byte, and none when there are none', () => {
      const args = ['', ' ', '*', '-x', '--', ...HOSTILE_VALUES.slice(0, 20)];
      cli.next({});
      const quoted = args.map((a) => variant.adapter.quote(a)).join(' ');
      expect(run(`blast ${quoted}`).status).to.equal(0);
      expect(cli.args()).to.deep.equal(args);
      cli.next({});
      expect(run('blast').status).to.equal(0);
      expect(cli.args()).to.deep.equal([]);
    });

    it('leaks nothing: no new variable, function, trap or option besides the change', () => {
      cli.next({ change: change('v'), code: 0 });
      const before = join(dir.path, 'before');
      const after = join(dir.path, 'after');
      const r = run(`${state(variant, before)}\nblast start demo || st=$?\n${state(variant, after)}`);
      expect(r.stderr).to.equal('cli stderr\n');
      expect(r.status).to.equal(0);
      const added = readState(variant, after).filter((l) => !readState(variant, before).includes(l));
      const removed = readState(variant, before).filter((l) => !readState(variant, after).includes(l));
      expect(added).to.deep.equal(['CHANGED']);
      expect(removed).to.deep.equal([]);
      const r2 = run(`blast\n${posixDump(['BLAST_SHELL', 'BLAST_SHELL_SCRIPT'])}\nenv | grep '^BLAST_' || :`);
      expect(r2.out).to.equal('cli stdout\nunset\0\0unset\0\0');
    });

    it("keeps the user's INT trap, and adds none when there was none", () => {
      cli.next({});
      const r = run(`trap 'echo user' INT\nblast\ntrap`);
      expect(r.out).to.match(/echo user/);
      cli.next({});
      const r2 = run('blast >/dev/null\ntrap');
      expect(r2.out).to.equal('');
    });

    it('works under set -e: a failing CLI does not abort the function half way', () => {
      cli.next({ change: change('applied'), code: 3 });
      const r = run(`blast start demo || st=$?\n${posixDump(['CHANGED', 'st'])}\nls -A '${tmp}'`, {
        flags: '-eu',
      });
      expect(r.status).to.equal(0);
      expect(r.out).to.equal('cli stdout\nset\0applied\0set\x003\0');
      cli.next({ code: 4 });
      const r2 = run('blast\necho not reached', { flags: '-eu' });
      expect(r2.status).to.equal(4);
      expect(r2.out).to.equal('cli stdout\n');
      expect(readdirSync(tmp)).to.deep.equal([]);
    });

    it('does not source what a killed CLI left half written, and removes it', () => {
      cli.next({ change: change('partial'), mode: 'kill' });
      const r = run(`blast start demo\nst=$?\n${posixDump(['CHANGED', 'HALF', 'st'])}`);
      expect(r.out).to.equal('cli stdout\nunset\0\0unset\0\0set\x00137\0');
      expect(readdirSync(tmp)).to.deep.equal([]);
    });

    it('sources nothing when the CLI writes nothing', () => {
      cli.next({ code: 0 });
      const r = run(`blast\n${posixDump(['CHANGED'])}`);
      expect(r.out).to.equal('cli stdout\nunset\0\0');
    });

    it("is not fooled by the user's aliases", () => {
      const aliases =
        "alias rm='echo ALIASED rm' mktemp='echo ALIASED mktemp' .='echo ALIASED .' source='echo ALIASED source' blast='echo ALIASED blast'";
      const prelude = variant.adapter.name === 'bash' ? `shopt -s expand_aliases\n${aliases}` : aliases;
      cli.next({ change: change('through aliases') });
      const r = run(`\\blast\n${posixDump(['CHANGED'])}`, { prelude });
      expect(r.stderr).to.equal('cli stderr\n');
      expect(r.out).to.equal('cli stdout\nset\0through aliases\0');
      expect(readdirSync(tmp)).to.deep.equal([]);
    });

    it('fails cleanly when no temp file can be made, without running the CLI', () => {
      cli.next({});
      const r = run(`TMPDIR='${join(dir.path, 'missing')}'\nblast start demo\nst=$?\necho "status $st"`);
      expect(r.out).to.match(/^status [1-9]/);
      expect(existsSync(join(cli.out, 'args'))).to.equal(false);
    });
  });
}
