/**
 * The `blast` function in interactive bash and zsh on a terminal (tmux): the CLI gets the
 * terminal, and ^C during the CLI leaves no file behind and the shell as it was.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../test/support/shells.js';
import { diffSnapshots, TmuxShell } from '../../../test/support/tmux.js';
import { bash, zsh } from '../src/adapters.js';
import { FakeCli } from './fake-cli.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const adapter of [bash, zsh]) {
  describe(`the blast function in interactive ${adapter.name}`, function () {
    this.timeout(60_000);
    let dir: ReturnType<typeof tempDir>;
    let cli: FakeCli;
    let sh: TmuxShell;

    before(async () => {
      dir = tempDir();
      cli = new FakeCli(dir.path);
      const init = join(dir.path, 'init.sh');
      writeFileSync(
        init,
        adapter.init({
          bin: cli.bin,
          scriptVariable: 'BLAST_SHELL_SCRIPT',
          shellVariable: 'BLAST_SHELL',
          pidVariable: 'BLAST_SHELL_PID',
        }),
      );
      const rc = `PS1='$ '\nset -u\nexport FAKE_OUT='${cli.out}'\neval "$(cat '${init}')"\n`;
      sh = await TmuxShell.start({ shell: adapter.name, files: { [adapter.rcFile]: rc } });
    });
    after(async () => {
      await sh?.kill();
      dir?.cleanup();
    });

    const change = adapter.render({
      set: [['CHANGED', 'yes']],
      unset: [],
      prompt: { action: 'tag', tag: '(t) ' },
    });

    it('runs the CLI on the terminal and applies its change', async () => {
      const before = await sh.snapshot();
      cli.next({ change, code: 5 });
      expect(await sh.run('blast start demo')).to.equal(5);
      expect(cli.terminal()).to.equal('tty');
      expect(await sh.prompt()).to.equal('(t) $');
      const diff = diffSnapshots(before, await sh.snapshot());
      expect(diff.filter((d) => !/_BLAST_(OLD_PS1|PS1_SAVED|PROMPT)|^PS1/.test(d))).to.deep.equal([
        'env CHANGED: added "yes"',
        'variable CHANGED: added',
      ]);
      cli.next({ change: adapter.render({ set: [], unset: ['CHANGED'], prompt: { action: 'restore' } }) });
      expect(await sh.run('blast kill')).to.equal(0);
      expect(diffSnapshots(before, await sh.snapshot())).to.deep.equal([]);
      expect(existsSync(join(dir.path, 'pwned'))).to.equal(false);
    });

    /** Press ^C while the CLI runs; the status of the interrupted `blast` call. */
    async function interrupt(): Promise<number> {
      cli.next({ change, mode: 'sleep' });
      const pending = sh.send('blast start demo');
      for (let i = 0; i < 500 && !existsSync(join(cli.out, 'sleeping')); i++) await sleep(20);
      await sh.keys('C-c');
      // bash goes on with the line (the function handles INT). zsh abandons the rest of the line, as
      // for any ^C, unless the user has an INT trap; then $? tells the status.
      const marked = await pending.wait(1500).catch(() => undefined);
      if (marked !== undefined) return marked;
      const file = join(sh.out, 'after-int');
      await sh.run(`printf '%s\\n' "$?" >| ${adapter.quote(file)}`);
      return Number(readFileSync(file, 'utf8'));
    }

    for (const trap of ['', "trap 'echo user-int' INT"]) {
      it(`^C during the CLI${trap ? ' (user INT trap)' : ''}: status 130, no file left, nothing applied`, async () => {
        if (trap) await sh.run(trap);
        const before = await sh.snapshot();
        expect(await interrupt()).to.equal(130);
        expect(readdirSync(join(sh.root, 'tmp'))).to.deep.equal([]);
        expect(diffSnapshots(before, await sh.snapshot())).to.deep.equal([]);
      });
    }
  });
}
