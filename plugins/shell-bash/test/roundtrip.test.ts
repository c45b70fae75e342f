/**
 * End to end through the real CLI (`bin/run.js`, built): interactive bash and zsh in tmux with
 * `eval "$(blast init <shell>)"` in their rc file, a private BLAST_HOME. start → the env's python
 * and pip, its variables and prompt tag; start another → switched; kill → the shell's full
 * environment and prompt identical to before. The same without the function, through the subshell.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shimDirFor } from '../../../test/transaction/support.js';
import { BIN, SHARED_CACHE } from '../../../test/support/cli.js';
import { HOSTILE_VALUES } from '../../../test/support/shells.js';
import { diffSnapshots, TmuxShell } from '../../../test/support/tmux.js';
import { bash, zsh } from '../src/adapters.js';

const SLOW = 180_000;

/** A private Blast for one session: data under HOME (a space on purpose: paths are values too). */
const blastEnv = (home: string) => ({
  BLAST_HOME: join(home, 'blast home'),
  BLAST_CACHE_DIR: SHARED_CACHE,
  XDG_DATA_HOME: join(home, '.local', 'share'),
  XDG_CONFIG_HOME: join(home, '.config'),
  XDG_CACHE_HOME: join(home, '.cache'),
  NO_COLOR: '1',
});

const FAKE_PYTHON = '#!/bin/sh\necho not the env python\n';

for (const adapter of [bash, zsh]) {
  const q = adapter.quote;
  const withFunction = (extra = '') => ({
    [adapter.rcFile]: `PS1='user> '\n${extra}\neval "$(node ${q(BIN)} init ${adapter.name})"\n`,
  });

  describe(`round trip through the CLI in interactive ${adapter.name}`, function () {
    this.timeout(SLOW);
    let sh: TmuxShell | undefined;
    afterEach(async () => {
      await sh?.kill();
      sh = undefined;
    });

    async function start(files: Record<string, string>): Promise<TmuxShell> {
      sh = await TmuxShell.start({ shell: adapter.name, files, env: blastEnv });
      return sh;
    }

    /** Output of `command` run in the shell (stdout and stderr), read from a file. */
    async function read(s: TmuxShell, command: string): Promise<string> {
      const file = join(s.out, 'read');
      const status = await s.run(`{ ${command}; } >| ${q(file)} 2>&1`, SLOW);
      expect(status, `${command}: ${existsSync(file) ? readFileSync(file, 'utf8') : ''}`).to.equal(0);
      return readFileSync(file, 'utf8');
    }

    const envDir = (s: TmuxShell, name: string) => join(s.env.BLAST_HOME!, 'envs', name);

    async function expectActive(s: TmuxShell, name: string, tagged = true) {
      const dir = envDir(s, name);
      expect(await read(s, 'command -v python')).to.equal(join(dir, 'bin', 'python') + '\n');
      expect(await read(s, `python -c 'import sys; print(sys.prefix)'`)).to.equal(dir + '\n');
      expect(await read(s, 'pip --version')).to.contain(dir);
      expect(await read(s, 'printf "%s|%s" "$VIRTUAL_ENV" "$VIRTUAL_ENV_PROMPT"')).to.equal(`${dir}|${name}`);
      if (tagged) expect(await s.prompt()).to.equal(`(${name}) user>`);
    }

    for (const nounset of [false, true]) {
      it(`start, switch, kill: the shell is exactly as before${nounset ? ' (set -u)' : ''}`, async () => {
        const s = await start(withFunction(nounset ? 'set -u' : ''));
        const before = await s.snapshot();
        expect(await s.prompt()).to.equal('user>');
        expect(await s.run('blast start demo', SLOW)).to.equal(0);
        await expectActive(s, 'demo');
        expect(await s.run('blast start other', SLOW)).to.equal(0);
        await expectActive(s, 'other');
        expect(await s.run('blast kill', SLOW)).to.equal(0);
        expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
        expect(await s.prompt()).to.equal('user>');
      });
    }

    it('leaves the prompt alone under VIRTUAL_ENV_DISABLE_PROMPT, and still sets VIRTUAL_ENV_PROMPT', async () => {
      const s = await start(withFunction('export VIRTUAL_ENV_DISABLE_PROMPT=1'));
      const before = await s.snapshot();
      expect(await s.run('blast start demo', SLOW)).to.equal(0);
      await expectActive(s, 'demo', false);
      expect(await s.prompt()).to.equal('user>');
      expect((await s.snapshot()).prompt).to.equal(before.prompt);
      expect(await s.run('blast kill', SLOW)).to.equal(0);
      expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
    });

    it('--env values arrive byte for byte, and kill takes them away', async () => {
      const s = await start(withFunction('set -u'));
      const before = await s.snapshot();
      const values = HOSTILE_VALUES;
      const flags = values.map((v, i) => `--env ${q(`HOSTILE_${i}=${v}`)}`).join(' ');
      // Sourced from a file: typing would let history expansion see the `!`s.
      expect(await s.source(`blast start demo ${flags}\n`, SLOW)).to.equal(0);
      const dump = join(s.out, 'dump');
      const names = values.map((_, i) => `"$HOSTILE_${i}"`).join(' ');
      expect(await s.run(`printf '%s\\0' ${names} >| ${q(dump)}`)).to.equal(0);
      const got = readFileSync(dump);
      expect(got.equals(Buffer.from(values.map((v) => `${v}\0`).join(''), 'utf8'))).to.equal(true);
      expect(existsSync(join(s.home, 'pwned'))).to.equal(false);
      expect(await s.run('blast kill', SLOW)).to.equal(0);
      expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
    });

    it('without the function: a subshell where the env wins over the rc PATH, and exit returns unchanged', async () => {
      const rc = `PS1='user> '\nexport PATH="$HOME/pre:$PATH"\n`;
      const s = await start({ [adapter.rcFile]: rc, 'pre/python': FAKE_PYTHON });
      await s.run(`chmod +x ${q(join(s.home, 'pre', 'python'))}`);
      const before = await s.snapshot();
      const outer = s.send(`node ${q(BIN)} start demo`);
      // The subshell is up when its prompt shows; typing earlier would race its startup.
      for (let i = 0; i < 600 && !(await s.prompt().catch(() => '')).startsWith('(demo) '); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await s.prompt()).to.equal('(demo) user>');
      await expectActive(s, 'demo');
      // The rc file's PATH entry is kept, below the environment: the activation ran after it.
      const path = (await read(s, 'printf %s "$PATH"')).split(':');
      // First the pip shim (pip runs in a transaction), then the environment's bin.
      expect(path.slice(0, 3)).to.deep.equal([
        shimDirFor(envDir(s, 'demo'), s.env),
        join(envDir(s, 'demo'), 'bin'),
        join(s.home, 'pre'),
      ]);
      // Inside, the function is defined: kill deactivates the subshell and says how to leave it.
      expect(await read(s, 'blast kill')).to.match(/still the subshell .*`exit` leaves it/);
      expect(await s.prompt()).to.equal('user>');
      await s.keys('-l', 'exit');
      await s.keys('Enter');
      expect(await outer.wait(SLOW)).to.equal(0);
      expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
    });
  });
}
