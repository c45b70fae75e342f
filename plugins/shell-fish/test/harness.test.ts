/**
 * The tmux harness with the fish dialect, on a plain interactive fish: if it could not see a
 * change, every round-trip test built on it would pass for nothing. (fish loads some state lazily
 * the first time a wrapper function runs — `ls` sets LS_COLORS, `cd` remembers a direction — so
 * the "unrelated commands" here are ones that do not.)
 */
import { expect } from 'chai';
import { diffSnapshots, fishDialect, TmuxShell } from '../../../test/support/tmux.js';

const CONFIG = '.config/fish/config.fish';

describe('tmux harness (fish)', function () {
  this.timeout(60_000);
  let sh: TmuxShell;

  before(async () => {
    sh = await TmuxShell.start({
      shell: 'fish',
      dialect: fishDialect,
      files: { [CONFIG]: "function fish_prompt; printf 'plain> '; end\n" },
    });
  });
  after(async () => sh?.kill());

  it('reports exit statuses', async () => {
    expect(await sh.run('true')).to.equal(0);
    expect(await sh.run('sh -c "exit 7"')).to.equal(7);
  });

  it('shows the prompt config.fish defined', async () => {
    expect(await sh.prompt()).to.equal('plain>');
  });

  it('takes two snapshots of an idle shell as identical, after unrelated commands', async () => {
    const a = await sh.snapshot();
    await sh.run('command ls / >/dev/null; echo hi >/dev/null; false');
    await sh.run('while false; end; true | cat; begin; set -l x 1; end');
    const b = await sh.snapshot();
    expect(diffSnapshots(a, b)).to.deep.equal([]);
    expect(a.env.get('HOME')).to.equal(sh.home);
    expect(a.prompt).to.match(/^# Defined in .*config\.fish @ line 1\nfunction fish_prompt\n/);
  });

  it('sees every kind of change', async () => {
    const a = await sh.snapshot();
    await sh.source(
      [
        "set -gx NEW_ONE 'a\nb'",
        'set -gx HOME /elsewhere',
        'set -e TERM',
        'set -g shell_only 1',
        "function fish_prompt; printf 'other> '; end",
        'function f_new; end',
        'abbr -a gco git checkout',
        'function on_hup --on-signal HUP; echo hup; end',
        '',
      ].join('\n'),
    );
    const b = await sh.snapshot();
    const diff = diffSnapshots(a, b);
    expect(diff).to.include('env NEW_ONE: added "a\\nb"');
    expect(diff).to.include(`env HOME: ${JSON.stringify(sh.home)} -> "/elsewhere"`);
    expect(diff).to.include('env TERM: removed (was "screen")');
    expect(diff).to.include('variable shell_only: added');
    expect(diff.some((d) => d.startsWith('PS1:') && d.includes('other> '))).to.equal(true);
    expect(diff).to.include('function f_new: added');
    expect(diff.some((d) => d.startsWith('option') && d.includes('gco'))).to.equal(true);
    expect(diff.some((d) => d.startsWith('trap') && d.includes('on_hup'))).to.equal(true);
    await sh.source('functions -e fish_prompt\n');
    expect((await sh.snapshot()).prompt).to.equal(undefined);
  });
});
