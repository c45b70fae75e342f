/**
 * The tmux harness itself, on plain shells: if it could not see a change, every round-trip test
 * built on it would pass for nothing.
 */
import { expect } from 'chai';
import { diffSnapshots, TmuxShell } from '../../../test/support/tmux.js';

for (const shell of ['bash', 'zsh']) {
  describe(`tmux harness (${shell})`, function () {
    this.timeout(60_000);
    let sh: TmuxShell;

    before(async () => {
      sh = await TmuxShell.start({ shell, files: { [`.${shell}rc`]: "PS1='plain> '\n" } });
    });
    after(async () => sh?.kill());

    it('reports exit statuses', async () => {
      expect(await sh.run('true')).to.equal(0);
      expect(await sh.run('(exit 7)')).to.equal(7);
    });

    it('shows the prompt the rc file set', async () => {
      expect(await sh.prompt()).to.equal('plain>');
    });

    it('takes two snapshots of an idle shell as identical, after unrelated commands', async () => {
      const a = await sh.snapshot();
      await sh.run('ls / >/dev/null; cd /; cd - >/dev/null; echo hi >/dev/null; (exit 3)');
      await sh.run('while false; do :; done; true | cat');
      const b = await sh.snapshot();
      expect(diffSnapshots(a, b)).to.deep.equal([]);
      expect(a.env.get('HOME')).to.equal(sh.home);
      expect(a.prompt).to.equal('plain> ');
    });

    it('sees every kind of change', async () => {
      const a = await sh.snapshot();
      await sh.source(
        "export NEW_ONE='a\nb'; export HOME=/elsewhere; unset -v TERM; shell_only=1; PS1='other> '\nf_new() { :; }\nset -u\ntrap 'echo hup' HUP\n",
      );
      const b = await sh.snapshot();
      const diff = diffSnapshots(a, b);
      expect(diff).to.include('env NEW_ONE: added "a\\nb"');
      expect(diff).to.include(`env HOME: ${JSON.stringify(sh.home)} -> "/elsewhere"`);
      expect(diff).to.include('env TERM: removed (was "screen")');
      expect(diff).to.include('variable shell_only: added');
      expect(diff).to.include('PS1: "plain> " -> "other> "');
      expect(diff).to.include('function f_new: added');
      expect(diff.some((d) => d.startsWith('option'))).to.equal(true);
      expect(diff.some((d) => d.startsWith('trap') && d.includes('echo hup'))).to.equal(true);
      await sh.source('unset -v PS1\n');
      expect((await sh.snapshot()).prompt).to.equal(undefined);
    });
  });
}
