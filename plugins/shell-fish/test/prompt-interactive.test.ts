/**
 * The prompt tag on a real terminal: interactive fish in tmux, the tag applied the way the shell
 * function applies it (sourced inside a function), the prompt read off the screen.
 */
import { expect } from 'chai';
import type { ShellChange } from 'blast/contract';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fishDialect, TmuxShell } from '../../../test/support/tmux.js';
import { fish } from '../src/adapters.js';
import { HOSTILE_TAGS, SOURCE_IN_FUNCTION } from './fish.js';

/** Every hostile tag in one, so one screen shows them all. */
const ALL_IN_ONE = `(${HOSTILE_TAGS.map((t) => t.trim().slice(1, -1)).join(' ')}) `;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('interactive fish prompt', function () {
  this.timeout(60_000);
  let sh: TmuxShell;
  let changes = 0;

  const apply = async (change: ShellChange) => {
    const file = join(sh.out, `change-${changes++}.fish`);
    writeFileSync(file, fish.render(change));
    expect(await sh.run(`__blast_test_source ${fish.quote(file)}`)).to.equal(0);
  };

  before(async () => {
    sh = await TmuxShell.start({
      shell: 'fish',
      dialect: fishDialect,
      files: {
        '.config/fish/config.fish': `${SOURCE_IN_FUNCTION}\n`,
        '.config/fish/functions/fish_prompt.fish':
          "function fish_prompt\n    printf '[%s] orig> ' $status\nend\n",
      },
    });
  });
  after(async () => sh?.kill());

  it('shows hostile tags literally, runs nothing, keeps $status, and restores the prompt', async () => {
    const before = await sh.snapshot();
    expect(await sh.prompt()).to.equal('[0] orig>');
    await apply({ set: [], unset: [], prompt: { action: 'tag', tag: '(demo) ' } });
    expect(await sh.prompt()).to.equal('(demo) [0] orig>');
    // Typed without the harness's status marker, so the prompt shows the command's own status.
    await sh.keys('-l', "sh -c 'exit 3'");
    await sh.keys('Enter');
    await sleep(300);
    expect(await sh.prompt()).to.equal('(demo) [3] orig>');
    await apply({ set: [], unset: [], prompt: { action: 'tag', tag: ALL_IN_ONE } });
    expect(await sh.prompt()).to.equal(`${ALL_IN_ONE}[0] orig>`);
    expect(existsSync(join(sh.home, 'pwned')), 'the tag ran code').to.equal(false);
    await apply({ set: [], unset: [], prompt: { action: 'restore' } });
    expect(await sh.prompt()).to.equal('[0] orig>');
    expect((await sh.snapshot()).prompt).to.equal(before.prompt);
  });
});
