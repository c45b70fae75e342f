/**
 * The `blast` function in interactive fish on a terminal (tmux): the CLI gets the terminal, and
 * ^C during the CLI leaves no file behind and the shell as it was — although fish abandons the
 * rest of the function when its child dies of SIGINT (the fish_postexec handler cleans up).
 */
import { expect } from 'chai';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../test/support/shells.js';
import { diffSnapshots, fishDialect, TmuxShell } from '../../../test/support/tmux.js';
import { fish } from '../src/adapters.js';
import { FakeCli } from './fake-cli.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the blast function in interactive fish', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  let cli: FakeCli;
  let sh: TmuxShell;

  before(async () => {
    dir = tempDir();
    cli = new FakeCli(dir.path);
    const init = join(dir.path, 'init.fish');
    writeFileSync(
      init,
      fish.init({
        bin: cli.bin,
        scriptVariable: 'BLAST_SHELL_SCRIPT',
        shellVariable: 'BLAST_SHELL',
        pidVariable: 'BLAST_SHELL_PID',
      }),
    );
    const config = [`set -gx FAKE_OUT ${fish.quote(cli.out)}`, `cat ${fish.quote(init)} | source`, ''].join(
      '\n',
    );
    // An autoloaded prompt, the usual kind: restored exactly, down to where fish loaded it from.
    const prompt = "function fish_prompt\n    printf '[%s] $ ' $status\nend\n";
    sh = await TmuxShell.start({
      shell: 'fish',
      dialect: fishDialect,
      files: { '.config/fish/config.fish': config, '.config/fish/functions/fish_prompt.fish': prompt },
    });
  });
  after(async () => {
    await sh?.kill();
    dir?.cleanup();
  });

  const change = fish.render({
    set: [['CHANGED', 'yes']],
    unset: [],
    prompt: { action: 'tag', tag: '(t) ' },
  });
  /** The shell's temp dir, without fish's own runtime directory. */
  const leftovers = () => readdirSync(join(sh.root, 'tmp')).filter((f) => !f.startsWith('fish.'));

  it('runs the CLI on the terminal and applies its change; the prompt still sees the status', async () => {
    const before = await sh.snapshot();
    cli.next({ change, code: 5 });
    expect(await sh.run('blast start demo')).to.equal(5);
    expect(cli.terminal()).to.equal('tty');
    // The status line the harness appends ran last, with status 0.
    expect(await sh.prompt()).to.equal('(t) [0] $');
    expect(await sh.run('false')).to.equal(1);
    await sh.keys('-l', 'false');
    await sh.keys('Enter');
    await sleep(300);
    expect(await sh.prompt()).to.equal('(t) [1] $');
    const diff = diffSnapshots(before, await sh.snapshot());
    expect(diff.filter((d) => !/_BLAST_PROMPT|_blast_old_fish_prompt|^PS1/.test(d))).to.deep.equal([
      'env CHANGED: added "yes"',
      'variable CHANGED: added',
    ]);
    cli.next({ change: fish.render({ set: [], unset: ['CHANGED'], prompt: { action: 'restore' } }) });
    expect(await sh.run('blast kill')).to.equal(0);
    expect(diffSnapshots(before, await sh.snapshot())).to.deep.equal([]);
    expect(existsSync(join(dir.path, 'pwned'))).to.equal(false);
    expect(leftovers()).to.deep.equal([]);
  });

  it('^C during the CLI: status 130, no file left, nothing applied, the shell as it was', async () => {
    const before = await sh.snapshot();
    cli.next({ change, mode: 'sleep' });
    const pending = sh.send('blast start demo');
    for (let i = 0; i < 500 && !existsSync(join(cli.out, 'sleeping')); i++) await sleep(20);
    expect(leftovers().length, 'the file exists while the CLI runs').to.equal(1);
    await sh.keys('C-c');
    // fish abandons the rest of the function, not the rest of the line: the status marker is written.
    expect(await pending.wait(5000)).to.equal(130);
    // The status marker is written on the interrupted line itself; fish_postexec runs once it ends.
    expect(await sh.run('true')).to.equal(0);
    expect(leftovers()).to.deep.equal([]);
    expect(diffSnapshots(before, await sh.snapshot())).to.deep.equal([]);
  });

  it('two interrupted calls on one line leave nothing either', async () => {
    const before = await sh.snapshot();
    cli.next({ change, mode: 'sleep' });
    const pending = sh.send('blast a; blast b');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 500 && !existsSync(join(cli.out, 'sleeping')); i++) await sleep(20);
      await sleep(100);
      cli.next({ change, mode: 'sleep' });
      await sh.keys('C-c');
    }
    expect(await pending.wait(5000)).to.equal(130);
    // The status marker is written on the interrupted line itself; fish_postexec runs once it ends.
    expect(await sh.run('true')).to.equal(0);
    expect(leftovers()).to.deep.equal([]);
    expect(diffSnapshots(before, await sh.snapshot())).to.deep.equal([]);
  });
});
