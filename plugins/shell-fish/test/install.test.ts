/**
 * `blast init fish --install` must write the file fish itself reads at start-up: the adapter's
 * `rcFile`, placed by the core (XDG_CONFIG_HOME when set, else ~/.config). Nothing here names that
 * file: the CLI writes where it thinks, and a real fish, started with only HOME and
 * XDG_CONFIG_HOME to find its configuration, must then have the `blast` function and its
 * completions. A wrong rcFile, or a core that placed it differently from fish, fails.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blast, sandbox, type Sandbox } from '../../../test/support/cli.js';
import { fishDialect, TmuxShell } from '../../../test/support/tmux.js';
import { FISH_WITH_HOME, runFish } from './fish.js';

const SLOW = 180_000;

describe('blast init fish --install: the file real fish reads', function () {
  this.timeout(SLOW);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  /** What a fish reading its configuration knows of blast: `function` and the completions of `blast sta`. */
  function fishSees(env: Record<string, string>): string {
    const result = runFish(
      "functions -q blast; and echo function; complete -C 'blast sta' | string replace -r '\\t.*' ''; true",
      { dir: box.root, env, argv: FISH_WITH_HOME },
    );
    expect(result.stderr).to.equal('');
    expect(result.status).to.equal(0);
    return result.stdout.toString('utf8');
  }

  const cases: Array<{ label: string; xdg: (box: Sandbox) => string | undefined }> = [
    { label: 'XDG_CONFIG_HOME unset (~/.config)', xdg: () => undefined },
    { label: 'XDG_CONFIG_HOME outside HOME', xdg: (b) => join(b.root, 'xdg config') },
  ];
  for (const { label, xdg } of cases) {
    it(`${label}: install makes fish define blast; uninstall takes it away`, () => {
      const config = xdg(box);
      if (config === undefined) delete box.env.XDG_CONFIG_HOME;
      else box.env.XDG_CONFIG_HOME = config;
      expect(fishSees(box.env)).to.equal('');

      const installed = blast(box, ['init', 'fish', '--install', '--json']);
      expect(installed.status, installed.stderr).to.equal(0);
      const { file } = JSON.parse(installed.stdout) as { file: string };
      // The line only sources Blast's generated file (no process at start-up), completions included.
      expect(readFileSync(file, 'utf8')).to.include(
        `builtin source '${join(box.blastHome, 'init', 'blast.fish')}'`,
      );
      expect(fishSees(box.env)).to.equal('function\nstart\n');

      const removed = blast(box, ['init', 'fish', '--uninstall']);
      expect(removed.status, removed.stderr).to.equal(0);
      expect(fishSees(box.env)).to.equal('');
    });
  }

  describe('interactive fish as a terminal starts it', () => {
    let sh: TmuxShell | undefined;
    afterEach(async () => {
      await sh?.kill();
      sh = undefined;
    });

    it('blast start demo activates through the installed function, blast kill restores', async () => {
      let installed: ReturnType<typeof blast> | undefined;
      const data = { BLAST_HOME: box.blastHome, BLAST_CACHE_DIR: box.env.BLAST_CACHE_DIR!, NO_COLOR: '1' };
      sh = await TmuxShell.start({
        shell: 'fish',
        dialect: fishDialect,
        // The session's own HOME, no XDG_CONFIG_HOME: the CLI installs where that user's fish looks.
        env: (home) => {
          const env: Record<string, string> = { ...box.env, ...data, HOME: home };
          delete env.XDG_CONFIG_HOME;
          installed = blast({ ...box, env }, ['init', 'fish', '--install']);
          return data;
        },
      });
      expect(installed!.status, installed!.stderr).to.equal(0);
      expect(installed!.stdout).to.match(/^Created ~\/\S+: it loads the blast function now\./);
      expect(await sh.run('functions -q blast')).to.equal(0);
      expect(await sh.run('blast start demo', SLOW)).to.equal(0);
      const out = join(sh.out, 'venv');
      expect(await sh.run(`printf '%s' "$VIRTUAL_ENV" > '${out}'`)).to.equal(0);
      expect(readFileSync(out, 'utf8')).to.equal(join(box.blastHome, 'envs', 'demo'));
      expect(await sh.run('blast kill', SLOW)).to.equal(0);
      expect(await sh.run('set -q VIRTUAL_ENV')).to.equal(1);
    });
  });
});
