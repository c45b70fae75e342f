/**
 * The prompt tag on a real terminal: interactive bash and zsh in tmux, the tag applied the way the
 * shell function applies it (sourced inside a function), the prompt read off the screen.
 */
import { expect } from 'chai';
import type { ShellChange } from 'blast/contract';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TmuxShell } from '../../../test/support/tmux.js';
import { bash, zsh } from '../src/adapters.js';
import { HOSTILE_TAGS, PROMPT_OPTIONS, SOURCE_IN_FUNCTION } from './variants.js';

/** Every hostile tag in one, so one screen shows them all. */
const ALL_IN_ONE = `(${HOSTILE_TAGS.map((t) => t.trim().slice(1, -1)).join(' ')}) `;

for (const adapter of [bash, zsh]) {
  const shell = adapter.name;
  for (const options of PROMPT_OPTIONS[shell]!) {
    describe(`interactive ${shell} prompt${options ? ` (${options})` : ''}`, function () {
      this.timeout(60_000);
      let sh: TmuxShell;
      let changes = 0;

      const apply = async (change: ShellChange) => {
        const file = join(sh.out, `change-${changes++}.sh`);
        writeFileSync(file, adapter.render(change));
        expect(await sh.run(`__blast_test_source ${adapter.quote(file)}`)).to.equal(0);
      };

      before(async () => {
        const rc = `PS1='orig> '\n${options}\n${SOURCE_IN_FUNCTION}\n`;
        sh = await TmuxShell.start({ shell, files: { [adapter.rcFile]: rc } });
      });
      after(async () => sh?.kill());

      it('shows hostile tags literally, runs nothing, and restores the prompt', async () => {
        const before = await sh.snapshot();
        expect(await sh.prompt()).to.equal('orig>');
        await apply({ set: [], unset: [], prompt: { action: 'tag', tag: '(demo) ' } });
        expect(await sh.prompt()).to.equal('(demo) orig>');
        await apply({ set: [], unset: [], prompt: { action: 'tag', tag: ALL_IN_ONE } });
        expect(await sh.prompt()).to.equal(`${ALL_IN_ONE}orig>`);
        expect(existsSync(join(sh.home, 'pwned')), 'the tag ran code').to.equal(false);
        await apply({ set: [], unset: [], prompt: { action: 'restore' } });
        expect(await sh.prompt()).to.equal('orig>');
        expect((await sh.snapshot()).prompt).to.equal(before.prompt);
      });
    });
  }
}
