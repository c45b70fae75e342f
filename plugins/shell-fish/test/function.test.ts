/**
 * The `blast` function from init(), in real non-interactive fish, driving a fake CLI: the change
 * lands in the calling shell, the status passes through, the file is gone, nothing leaks, with the
 * user's functions shadowing the commands it uses. function-interactive.test.ts covers what needs
 * a terminal (^C, the CLI's tty).
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, HOSTILE_VALUES, parseDump, tempDir } from '../../../test/support/shells.js';
import { fish } from '../src/adapters.js';
import { FakeCli } from './fake-cli.js';
import { fishDump, runFish } from './fish.js';

const HOSTILE = HOSTILE_VALUES.slice(0, 30).join('|');

/** fish code writing the names of variables, functions and event handlers to a file. */
const state = (file: string) =>
  `begin; set -n; echo --; functions -a -n; echo --; functions --handlers; end > '${file}'`;

/** Set by fish itself as commands run. */
const VOLATILE = new Set(['_', 'CMD_DURATION', 'status', 'pipestatus', 'status_generation', 'last_pid']);

function readState(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !VOLATILE.has(l));
}

describe('the blast function in fish', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  let cli: FakeCli;
  let tmp: string;

  beforeEach(() => {
    dir = tempDir();
    cli = new FakeCli(dir.path);
    tmp = join(dir.path, 'tmp');
    writeFileSync(
      join(dir.path, 'init.fish'),
      fish.init({
        bin: cli.bin,
        scriptVariable: 'BLAST_SHELL_SCRIPT',
        shellVariable: 'BLAST_SHELL',
        pidVariable: 'BLAST_SHELL_PID',
      }),
    );
  });
  afterEach(() => dir.cleanup());

  /** Run `body` in a fish that has sourced the function; returns stdout, stderr and status. */
  function run(body: string, options: { prelude?: string } = {}) {
    const script = [
      `set -gx FAKE_OUT '${cli.out}'`,
      `mkdir -p '${tmp}'`,
      options.prelude ?? '',
      `builtin source '${join(dir.path, 'init.fish')}'`,
      'set st unset',
      body,
    ].join('\n');
    const result = runFish(script, { dir: dir.path, env: cleanEnv({ TMPDIR: tmp }) });
    expect(existsSync(join(dir.path, 'pwned')), 'quoting of the CLI path').to.equal(false);
    return { ...result, out: result.stdout.toString('utf8') };
  }

  const change = (value: string) =>
    fish.render({ set: [['CHANGED', value]], unset: ['GONE'], prompt: { action: 'keep' } });

  /** The temp dir, without fish's own runtime directory (it makes one there without XDG_RUNTIME_DIR). */
  const leftovers = () => readdirSync(tmp).filter((f) => !f.startsWith('fish.'));

  it('applies the change in the calling shell and passes the exit status through', () => {
    for (const code of [0, 1, 3, 42, 127, 128]) {
      cli.next({ change: change(HOSTILE), code });
      const r = run(
        `set -gx GONE 1\nblast start demo\nset st $status\n${fishDump(['CHANGED', 'GONE', 'st'])}`,
      );
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
    expect(shell).to.equal('fish');
    expect(script.startsWith(tmp + '/')).to.equal(true);
    expect(cli.file()).to.match(/^600 0 /);
    expect(existsSync(script)).to.equal(false);
    expect(leftovers()).to.deep.equal([]);
  });

  it('passes every argument byte for byte, and none when there are none', () => {
    const args = ['', ' ', '*', '-x', '--', '(x)', '{a,b}', '~', ...HOSTILE_VALUES.slice(0, 20)];
    cli.next({});
    expect(run(`blast ${args.map(fish.quote).join(' ')}`).status).to.equal(0);
    expect(cli.args()).to.deep.equal(args);
    cli.next({});
    expect(run('blast').status).to.equal(0);
    expect(cli.args()).to.deep.equal([]);
  });

  it('leaks nothing: no new variable, function or handler besides the change', () => {
    cli.next({ change: change('v'), code: 0 });
    const before = join(dir.path, 'before');
    const after = join(dir.path, 'after');
    const r = run(`${state(before)}\nblast start demo; or set st $status\n${state(after)}`);
    expect(r.stderr).to.equal('cli stderr\n');
    expect(r.status).to.equal(0);
    const added = readState(after).filter((l) => !readState(before).includes(l));
    const removed = readState(before).filter((l) => !readState(after).includes(l));
    expect(added).to.deep.equal(['CHANGED']);
    expect(removed).to.deep.equal([]);
    const r2 = run(
      `blast\n${fishDump(['BLAST_SHELL', 'BLAST_SHELL_SCRIPT'])}\nenv | grep '^BLAST_'; or true`,
    );
    expect(r2.out).to.equal('cli stdout\nunset\0\0unset\0\0');
  });

  it('does not source what a killed CLI left half written, and removes it', () => {
    cli.next({ change: change('partial'), mode: 'kill' });
    const r = run(
      `blast start demo\nset st $status\n${fishDump(['CHANGED', 'HALF', 'st', '_BLAST_FN_PENDING'])}`,
    );
    expect(r.out).to.equal('cli stdout\nunset\0\0unset\0\0set\x00137\0unset\0\0');
    expect(leftovers()).to.deep.equal([]);
  });

  it('sources nothing when the CLI writes nothing', () => {
    cli.next({ code: 0 });
    const r = run(`blast\n${fishDump(['CHANGED'])}`);
    expect(r.out).to.equal('cli stdout\nunset\0\0');
  });

  it("is not fooled by the user's functions and aliases", () => {
    const prelude = [
      // fish's own autoloader calls `source` by name, so a prompt is loaded before that is shadowed.
      "function fish_prompt; builtin printf 'user> '; end",
      "alias rm='echo ALIASED rm'",
      "alias mktemp='echo ALIASED mktemp'",
      'function source; echo ALIASED source; end',
      'function functions; echo ALIASED functions; end',
      'function printf; echo ALIASED printf; end',
      'function contains; echo ALIASED contains; end',
    ].join('\n');
    cli.next({
      change: fish.render({
        set: [['CHANGED', 'through aliases']],
        unset: [],
        prompt: { action: 'tag', tag: '(t) ' },
      }),
    });
    const r = run(`blast\nbuiltin printf '%s\\0' "$CHANGED" (fish_prompt)`, { prelude });
    expect(r.stderr).to.equal('cli stderr\n');
    expect(r.out).to.equal('cli stdout\nthrough aliases\0(t) user> \0');
    expect(leftovers()).to.deep.equal([]);
  });

  it('fails cleanly when no temp file can be made, without running the CLI', () => {
    cli.next({});
    const r = run(`set -gx TMPDIR '${join(dir.path, 'missing')}'\nblast start demo\necho "status $status"`);
    expect(r.out).to.match(/status [1-9]/);
    expect(existsSync(join(cli.out, 'args'))).to.equal(false);
  });

  it('uses /tmp when TMPDIR is unset or empty', () => {
    cli.next({});
    expect(run('set -e TMPDIR\nblast').status).to.equal(0);
    expect(cli.protocol().script).to.match(/^\/tmp\/blast\./);
    cli.next({});
    expect(run("set -gx TMPDIR ''\nblast").status).to.equal(0);
    expect(cli.protocol().script).to.match(/^\/tmp\/blast\./);
  });
});
