/**
 * The policy as a user meets it: an interactive bash on a pty (tmux) whose ~/.bashrc loads the
 * blast function. `blast start` of a limited environment limits the shell itself, `blast kill`
 * gives its limits back; `blast start` of a sandboxed one opens the sandboxed subshell on the same
 * terminal (job control works), and `exit` comes back to the unchanged shell.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, sandbox, SHARED_CACHE, type Sandbox } from '../../../test/support/cli.js';
import { TmuxShell } from '../../../test/support/tmux.js';
import { allocate, configure, makeEnv } from './support.js';

const sq = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

describe('isolation in an interactive bash (tmux)', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let sh: TmuxShell;

  before(() => {
    box = sandbox();
    makeEnv(box, 'jail');
    configure(box, 'jail', 'isolation=sandbox', 'memory=256M');
  });
  beforeEach(async () => {
    sh = await TmuxShell.start({
      shell: 'bash',
      files: { '.bashrc': `eval "$(${sq(process.execPath)} ${sq(BIN)} init bash)"\n` },
      env: { BLAST_HOME: box.blastHome, BLAST_CACHE_DIR: SHARED_CACHE },
    });
  });
  afterEach(async () => sh?.kill());
  after(() => box?.cleanup());

  const file = (name: string) => readFileSync(join(sh.out, name), 'utf8');
  async function screenShows(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test((await sh.screen()).trimEnd())) {
      if (Date.now() > deadline) throw new Error(`the screen never showed ${pattern}:\n${await sh.screen()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  /** The environment's python by path, for the shell when nothing is activated. */
  const python = (env: string) => sq(join(box.blastHome, 'envs', env, 'bin', 'python'));

  it('start --memory limits this shell, kill gives its soft limits back exactly', async () => {
    expect(await sh.run(`cat /proc/$$/limits >| ${sq(join(sh.out, 'before'))}`)).to.equal(0);
    expect(await sh.run('blast start tty-limits --memory 128M --cpu-time 600')).to.equal(0);
    expect(await sh.run(`${allocate(300)} 2>/dev/null`)).to.equal(1);
    expect(await sh.run('blast kill')).to.equal(0);
    expect(await sh.run(`cat /proc/$$/limits >| ${sq(join(sh.out, 'after'))}`)).to.equal(0);
    expect(file('after')).to.equal(file('before'));
    expect(await sh.run(`${allocate(300, python('tty-limits'))} >/dev/null`)).to.equal(0);
  });

  it('start of a sandboxed environment opens the sandbox on this terminal; exit returns with its status', async () => {
    // The project: writable inside, where the harness's status files live too.
    expect(await sh.run(`cd ${sq(sh.out)}`)).to.equal(0);
    const started = sh.send('blast start jail');
    // Keys typed before the subshell reads its terminal would be lost with the outer line.
    await screenShows(/inside jail's sandbox[^]*\n\(jail\) [^\n]*[#$] *$/);
    expect(await sh.run(`test "$BLAST_SANDBOX" = ${sq(join(box.blastHome, 'envs', 'jail'))}`)).to.equal(0);
    expect(await sh.run('touch /usr/blast-tty-probe 2>/dev/null')).to.not.equal(0);
    expect(await sh.run(`(touch ${sq(join(sh.home, 'probe'))}) 2>/dev/null`)).to.not.equal(0);
    expect(await sh.run('echo inside >| written')).to.equal(0);
    expect(await sh.run(`${allocate(400)} 2>/dev/null`)).to.equal(1);
    // A terminal with job control: a background job, listed, then stopped by its job number.
    expect(await sh.run('sleep 60 & jobs >| jobs.txt; kill %1')).to.equal(0);
    expect(file('jobs.txt')).to.match(/^\[1\]\+ +Running +sleep 60 &/);
    expect(await sh.run('test -t 0 && test -t 1')).to.equal(0);
    sh.send('exit 3');
    expect(await started.wait()).to.equal(3);
    // Back in the user's shell: no sandbox, no activation, limits as they were.
    expect(await sh.run('test -z "${BLAST_SANDBOX-}" && test -z "${VIRTUAL_ENV-}"')).to.equal(0);
    expect(await sh.run(`${allocate(400, python('jail'))} >/dev/null`)).to.equal(0);
    expect(file('written')).to.equal('inside\n');
  });
});
