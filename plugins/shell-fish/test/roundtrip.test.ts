/**
 * End to end through the real CLI (`bin/run.js`, built): an interactive fish in tmux whose
 * config.fish has the line `blast init fish --install` would add, a private BLAST_HOME. start →
 * the env's python and pip, its variables and prompt tag; start another → switched; kill → the
 * shell's full environment, prompt function, variables, functions and handlers identical to before.
 * The same without the function, through the subshell.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shimDirFor } from '../../../test/transaction/support.js';
import { BIN, sandbox, type Sandbox } from '../../../test/support/cli.js';
import { HOSTILE_VALUES } from '../../../test/support/shells.js';
import { diffSnapshots, fishDialect, type Snapshot, TmuxShell } from '../../../test/support/tmux.js';
import { fish } from '../src/adapters.js';

const SLOW = 180_000;
const q = fish.quote;
const CONFIG = '.config/fish/config.fish';
/** Where fish users keep their prompt (and where `fish_config prompt save` writes it). */
const PROMPT_FILE = '.config/fish/functions/fish_prompt.fish';
const USER_PROMPT = "function fish_prompt\n    printf 'user> '\nend\n";
const FAKE_PYTHON = '#!/bin/sh\necho not the env python\n';

describe('round trip through the CLI in interactive fish', function () {
  this.timeout(SLOW);
  let box: Sandbox;
  let sh: TmuxShell | undefined;
  beforeEach(function () {
    if (!existsSync(join(BIN, '..', '..', 'dist', 'commands'))) throw new Error('run `npm run build` first');
    box = sandbox();
  });
  afterEach(async () => {
    await sh?.kill();
    sh = undefined;
    box.cleanup();
  });

  /** A fish whose Blast data is the sandbox's (a space in its path on purpose), sharing the pip seed cache. */
  async function start(files: Record<string, string>): Promise<TmuxShell> {
    sh = await TmuxShell.start({
      shell: 'fish',
      dialect: fishDialect,
      files,
      env: { BLAST_HOME: box.blastHome, BLAST_CACHE_DIR: box.env.BLAST_CACHE_DIR!, NO_COLOR: '1' },
    });
    return sh;
  }

  const withFunction = (extra = '') => ({
    [PROMPT_FILE]: USER_PROMPT,
    [CONFIG]: `${extra}\n${fish.rcLine!(BIN)}\n`,
  });

  /** Output of `command` run in the shell (stdout and stderr), read from a file. */
  async function read(s: TmuxShell, command: string): Promise<string> {
    const file = join(s.out, 'read');
    const status = await s.run(`begin; ${command}; end > ${q(file)} 2>&1`, SLOW);
    expect(status, `${command}: ${existsSync(file) ? readFileSync(file, 'utf8') : ''}`).to.equal(0);
    return readFileSync(file, 'utf8');
  }

  const envDir = (name: string) => join(box.blastHome, 'envs', name);

  async function expectActive(s: TmuxShell, name: string, tagged = true) {
    const dir = envDir(name);
    expect(await read(s, 'command -v python')).to.equal(join(dir, 'bin', 'python') + '\n');
    expect(await read(s, `python -c 'import sys; print(sys.prefix)'`)).to.equal(dir + '\n');
    expect(await read(s, 'pip --version')).to.contain(dir);
    expect(await read(s, 'printf "%s|%s" "$VIRTUAL_ENV" "$VIRTUAL_ENV_PROMPT"')).to.equal(`${dir}|${name}`);
    expect(await read(s, `printf '%s\\n' $PATH[1..2]`)).to.equal(
      `${shimDirFor(dir, box.env)}\n${join(dir, 'bin')}\n`,
    );
    if (tagged) expect(await s.prompt()).to.equal(`(${name}) user>`);
  }

  it('start, switch, kill: the shell is exactly as before', async () => {
    const s = await start(withFunction());
    const before = await s.snapshot();
    expect(before.functions).to.include('blast');
    expect(before.prompt).to.match(/^# Defined in .*fish_prompt\.fish @ line 1\n/);
    expect(await s.prompt()).to.equal('user>');
    expect(await s.run('blast start demo', SLOW)).to.equal(0);
    await expectActive(s, 'demo');
    // The snapshot sees the activation (or its equality after kill would prove nothing).
    const during = diffSnapshots(before, await s.snapshot());
    expect(during).to.include(`env VIRTUAL_ENV: added ${JSON.stringify(envDir('demo'))}`);
    expect(during).to.include('function _blast_old_fish_prompt: added');
    expect(during.some((d) => d.startsWith('PS1:'))).to.equal(true);
    expect(await s.run('blast start other', SLOW)).to.equal(0);
    await expectActive(s, 'other');
    expect(await s.run('blast kill', SLOW)).to.equal(0);
    expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
    expect(await s.prompt()).to.equal('user>');
  });

  it('a prompt from config.fish comes back with its code (fish keeps no origin for the copy)', async () => {
    const s = await start({ [CONFIG]: `function fish_prompt; printf 'user> '; end\n${fish.rcLine!(BIN)}\n` });
    const before = await s.snapshot();
    expect(before.prompt).to.match(/^# Defined in .*config\.fish @ line 1\n/);
    expect(await s.run('blast start demo', SLOW)).to.equal(0);
    await expectActive(s, 'demo');
    expect(await s.run('blast kill', SLOW)).to.equal(0);
    const code = (snap: Snapshot) => ({ ...snap, prompt: snap.prompt?.replace(/^# Defined .*\n/, '') });
    expect(diffSnapshots(code(before), code(await s.snapshot()))).to.deep.equal([]);
    expect(await s.prompt()).to.equal('user>');
  });

  it('leaves the prompt alone under VIRTUAL_ENV_DISABLE_PROMPT, and still sets VIRTUAL_ENV_PROMPT', async () => {
    const s = await start(withFunction('set -gx VIRTUAL_ENV_DISABLE_PROMPT 1'));
    const before = await s.snapshot();
    expect(await s.run('blast start demo', SLOW)).to.equal(0);
    await expectActive(s, 'demo', false);
    expect(await s.prompt()).to.equal('user>');
    expect((await s.snapshot()).prompt).to.equal(before.prompt);
    expect(await s.run('blast kill', SLOW)).to.equal(0);
    expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
  });

  it('--env values arrive byte for byte, a hostile name shows literally, and kill takes it all away', async () => {
    const s = await start(withFunction());
    const before = await s.snapshot();
    const values = HOSTILE_VALUES;
    const flags = values.map((v, i) => `--env ${q(`HOSTILE_${i}=${v}`)}`).join(' ');
    const name = `it's "$x" $(touch pwned) (touch pwned) {a,b} * %s \\ é`;
    // Sourced from a file: a value with a newline cannot be typed.
    expect(await s.source(`blast start ${q(name)} ${flags}\n`, SLOW)).to.equal(0);
    const dump = join(s.out, 'dump');
    const names = values.map((_, i) => `"$HOSTILE_${i}"`).join(' ');
    expect(await s.run(`printf '%s\\0' ${names} > ${q(dump)}`)).to.equal(0);
    const got = readFileSync(dump);
    expect(got.equals(Buffer.from(values.map((v) => `${v}\0`).join(''), 'utf8'))).to.equal(true);
    expect(await s.prompt()).to.equal(`(${name}) user>`);
    expect(await read(s, 'printf "%s" "$VIRTUAL_ENV_PROMPT"')).to.equal(name);
    expect(existsSync(join(s.home, 'pwned'))).to.equal(false);
    expect(await s.run('blast kill', SLOW)).to.equal(0);
    expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
  });

  it('without the function: a subshell where the env wins over the config.fish PATH, and exit returns unchanged', async () => {
    const s = await start({
      [PROMPT_FILE]: USER_PROMPT,
      [CONFIG]: 'set -gx PATH $HOME/pre $PATH\n',
      'pre/python': FAKE_PYTHON,
    });
    await s.run(`chmod +x ${q(join(s.home, 'pre', 'python'))}`);
    expect(await read(s, 'python')).to.equal('not the env python\n');
    const before = await s.snapshot();
    expect(before.functions).to.not.include('blast');
    const outer = s.send(`${q(BIN)} start demo`);
    // The subshell is up when its prompt shows; typing earlier would race its startup.
    for (let i = 0; i < 600 && !(await s.prompt().catch(() => '')).startsWith('(demo) '); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await s.prompt()).to.equal('(demo) user>');
    await expectActive(s, 'demo');
    expect(await read(s, 'functions -q blast; and echo defined')).to.equal('defined\n');
    await s.keys('-l', 'exit');
    await s.keys('Enter');
    expect(await outer.wait(SLOW)).to.equal(0);
    expect(diffSnapshots(before, await s.snapshot())).to.deep.equal([]);
    expect(await s.prompt()).to.equal('user>');
  });
});
