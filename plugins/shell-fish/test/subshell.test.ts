/**
 * subshell(): the spec run as the core runs it (files written, the command started with the
 * spec's environment), on a terminal. The user's config.fish runs first and may prepend to PATH;
 * the activation still wins; `blast` is defined; and the result is exactly a normal fish of the
 * user's in which the function and the activation were sourced.
 */
import { expect } from 'chai';
import type { SubshellContext } from 'blast/contract';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, tempDir } from '../../../test/support/shells.js';
import { diffSnapshots, fishDialect, type Snapshot, TmuxShell } from '../../../test/support/tmux.js';
import { fish } from '../src/adapters.js';

const INIT = {
  bin: '/nonexistent/blast',
  scriptVariable: 'BLAST_SHELL_SCRIPT',
  shellVariable: 'BLAST_SHELL',
  pidVariable: 'BLAST_SHELL_PID',
} as const;

/** A user's fish: config.fish sets a variable and prepends a dir with a `python` of its own to PATH. */
const USER_FILES = {
  '.config/fish/config.fish': 'set -g USER_RC_RAN 1\nset -gx PATH $HOME/pre $PATH\n',
  '.config/fish/functions/fish_prompt.fish': "function fish_prompt\n    printf 'user> '\nend\n",
  'pre/python': '#!/bin/sh\necho fake\n',
};

/** Session paths differ between two shells, and so do the files the wrapper prompt came from. */
function normalized(s: Snapshot, sh: TmuxShell): Snapshot {
  return {
    ...s,
    env: new Map([...s.env].map(([k, v]) => [k, v.replaceAll(sh.root, '<root>')])),
    prompt: s.prompt?.replace(/^# Defined in .* @ line \d+\n/, '# Defined in <activation>\n'),
  };
}

describe('subshell for fish', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  const shells: TmuxShell[] = [];
  beforeEach(() => {
    dir = tempDir();
    mkdirSync(join(dir.path, 'venv', 'bin'), { recursive: true });
    writeFileSync(join(dir.path, 'venv', 'bin', 'python'), '#!/bin/sh\necho venv\n');
    chmodSync(join(dir.path, 'venv', 'bin', 'python'), 0o755);
  });
  afterEach(async () => {
    for (const sh of shells.splice(0)) await sh.kill();
    dir.cleanup();
  });

  const venv = () => join(dir.path, 'venv');
  const activation = () =>
    fish.render({
      set: [
        ['PATH', `${join(venv(), 'bin')}:${cleanEnv().PATH}`],
        ['VIRTUAL_ENV', venv()],
        ['VIRTUAL_ENV_PROMPT', 'demo'],
      ],
      unset: [],
      prompt: { action: 'tag', tag: '(demo) ' },
    });

  async function started(sh: TmuxShell): Promise<TmuxShell> {
    shells.push(sh);
    chmodSync(join(sh.home, 'pre', 'python'), 0o755);
    return sh;
  }

  /** Start the subshell as the core would. */
  async function subshell(): Promise<TmuxShell> {
    const ctxDir = join(dir.path, 'ctx');
    mkdirSync(ctxDir, { mode: 0o700 });
    const ctx = (home: string): SubshellContext => ({
      ...INIT,
      activation: activation(),
      dir: ctxDir,
      home,
      env: { ...cleanEnv({ HOME: home }), BLAST_SHELL_SCRIPT: '/stale/file', BLAST_SHELL: 'x' },
    });
    const { command, args } = fish.subshell(ctx('/'));
    expect(command).to.equal('fish');
    const sh = await TmuxShell.start({
      shell: command,
      args,
      dialect: fishDialect,
      files: USER_FILES,
      env: (home) => {
        const spec = fish.subshell(ctx(home));
        expect(spec.env?.BLAST_SHELL_SCRIPT, 'protocol variables are dropped').to.equal(null);
        expect(spec.env?.BLAST_SHELL, 'protocol variables are dropped').to.equal(null);
        for (const [path, content] of Object.entries(spec.files ?? {})) {
          expect(path.startsWith(ctxDir + '/'), path).to.equal(true);
          writeFileSync(path, content, { mode: 0o600 });
        }
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(spec.env ?? {})) if (v !== null) env[k] = v;
        return env;
      },
    });
    return started(sh);
  }

  /** A normal interactive fish of the same user, in which the function and activation are then sourced. */
  async function normalShell(): Promise<TmuxShell> {
    const sh = await started(
      await TmuxShell.start({ shell: 'fish', dialect: fishDialect, files: USER_FILES }),
    );
    writeFileSync(join(sh.out, 'activate'), `${fish.init(INIT)}${activation()}`);
    expect(await sh.run(`builtin source ${fish.quote(join(sh.out, 'activate'))}`)).to.equal(0);
    return sh;
  }

  async function read(sh: TmuxShell, command: string): Promise<string> {
    const file = join(sh.out, 'read');
    await sh.run(`begin; ${command}; end > ${fish.quote(file)} 2>&1`);
    return readFileSync(file, 'utf8');
  }

  it('runs config.fish first, then the activation: the env python wins over the PATH prepend', async () => {
    const sh = await subshell();
    expect(await read(sh, 'command -v python')).to.equal(join(venv(), 'bin', 'python') + '\n');
    expect(await read(sh, 'echo $PATH[1]')).to.equal(`${join(venv(), 'bin')}\n`);
    expect(
      await read(
        sh,
        'echo "$USER_RC_RAN $VIRTUAL_ENV_PROMPT" (set -q BLAST_SHELL_SCRIPT; and echo set; or echo unset)',
      ),
    ).to.equal('1 demo unset\n');
    expect(await read(sh, 'functions -q blast; and echo defined')).to.equal('defined\n');
    expect(await sh.prompt()).to.equal('(demo) user>');
  });

  it('is exactly a normal fish of the user with the function and the activation sourced', async () => {
    const sub = await subshell();
    const normal = await normalShell();
    const diff = diffSnapshots(
      normalized(await normal.snapshot(), normal),
      normalized(await sub.snapshot(), sub),
    );
    expect(diff).to.deep.equal([]);
  });
});
