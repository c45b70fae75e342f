/**
 * subshell(): the spec run as the core runs it (files written, the command started with the
 * spec's environment), on a terminal. The user's startup files run first and may prepend to PATH;
 * the activation still wins; `blast` is defined; zsh's ZDOTDIR ends as the user's startup left it;
 * and the result is exactly a normal shell of the user's in which the activation was applied.
 */
import { expect } from 'chai';
import type { SubshellContext } from 'blast/contract';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, tempDir } from '../../../test/support/shells.js';
import { diffSnapshots, type Snapshot, TmuxShell } from '../../../test/support/tmux.js';
import { bash, zsh } from '../src/adapters.js';

const INIT = {
  bin: '/nonexistent/blast',
  scriptVariable: 'BLAST_SHELL_SCRIPT',
  shellVariable: 'BLAST_SHELL',
  pidVariable: 'BLAST_SHELL_PID',
} as const;

/** A user rc: its own prompt, a variable, and a PATH prepend with a `python` of its own. */
const USER_RC = `PS1='user> '\nUSER_RC_RAN=1\nexport PATH="$HOME/pre:$PATH"\n`;
const FAKE_PYTHON = '#!/bin/sh\necho fake\n';

/** The user's own variables when they type `blast start`, given their HOME. */
type UserEnv = (home: string) => Record<string, string>;
const noVars: UserEnv = () => ({});

/** Session paths differ between two shells; nothing else may. */
function normalized(s: Snapshot, sh: TmuxShell): Snapshot {
  return { ...s, env: new Map([...s.env].map(([k, v]) => [k, v.replaceAll(sh.root, '<root>')])) };
}

for (const adapter of [bash, zsh]) {
  describe(`subshell for ${adapter.name}`, function () {
    this.timeout(60_000);
    let dir: ReturnType<typeof tempDir>;
    const shells: TmuxShell[] = [];
    beforeEach(() => {
      dir = tempDir();
      mkdirSync(join(dir.path, 'venv', 'bin'), { recursive: true });
      writeFileSync(join(dir.path, 'venv', 'bin', 'python'), FAKE_PYTHON);
      chmodSync(join(dir.path, 'venv', 'bin', 'python'), 0o755);
    });
    afterEach(async () => {
      for (const sh of shells.splice(0)) await sh.kill();
      dir.cleanup();
    });

    const venv = () => join(dir.path, 'venv');
    const activation = () =>
      adapter.render({
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

    /** Start the subshell as the core would, for a user whose own variables are `userEnv`. */
    async function subshell(files: Record<string, string>, userEnv = noVars): Promise<TmuxShell> {
      const ctxDir = join(dir.path, 'ctx');
      mkdirSync(ctxDir, { mode: 0o700 });
      const ctx = (home: string): SubshellContext => ({
        ...INIT,
        activation: activation(),
        dir: ctxDir,
        home,
        env: {
          ...cleanEnv({ HOME: home }),
          ...userEnv(home),
          BLAST_SHELL_SCRIPT: '/stale/file',
          BLAST_SHELL: 'x',
        },
      });
      // command and args do not depend on HOME; files and environment may.
      const { command, args } = adapter.subshell(ctx('/'));
      const sh = await TmuxShell.start({
        shell: command,
        args,
        files: { ...files, 'pre/python': FAKE_PYTHON },
        env: (home) => {
          const spec = adapter.subshell(ctx(home));
          expect(spec.env?.BLAST_SHELL_SCRIPT, 'protocol variables are dropped').to.equal(null);
          expect(spec.env?.BLAST_SHELL, 'protocol variables are dropped').to.equal(null);
          for (const [path, content] of Object.entries(spec.files ?? {})) {
            expect(path.startsWith(ctxDir + '/'), path).to.equal(true);
            writeFileSync(path, content, { mode: 0o600 });
          }
          const env = userEnv(home);
          for (const [k, v] of Object.entries(spec.env ?? {})) if (v !== null) env[k] = v;
          return env;
        },
      });
      return started(sh);
    }

    /** A normal interactive shell of the same user, in which the activation is then applied. */
    async function normalShell(files: Record<string, string>, userEnv = noVars): Promise<TmuxShell> {
      const sh = await started(
        await TmuxShell.start({
          shell: adapter.name,
          files: { ...files, 'pre/python': FAKE_PYTHON },
          env: userEnv,
        }),
      );
      writeFileSync(join(sh.out, 'activate'), `${adapter.init(INIT)}${activation()}`);
      expect(await sh.run(`. ${adapter.quote(join(sh.out, 'activate'))}`)).to.equal(0);
      return sh;
    }

    async function read(sh: TmuxShell, command: string): Promise<string> {
      const file = join(sh.out, 'read');
      await sh.run(`{ ${command}; } >| ${adapter.quote(file)} 2>&1`);
      return readFileSync(file, 'utf8');
    }

    it('runs the user rc first, then the activation: the env python wins over the rc PATH prepend', async () => {
      const sh = await subshell({ [adapter.rcFile]: USER_RC });
      expect(await read(sh, 'command -v python')).to.equal(join(venv(), 'bin', 'python') + '\n');
      expect(await read(sh, 'echo "$USER_RC_RAN $VIRTUAL_ENV_PROMPT ${BLAST_SHELL_SCRIPT-unset}"')).to.equal(
        '1 demo unset\n',
      );
      expect(await read(sh, 'type blast >/dev/null && echo defined')).to.equal('defined\n');
      expect(await sh.prompt()).to.equal('(demo) user>');
    });

    it('is exactly a normal shell of the user with the activation applied', async () => {
      const files = { [adapter.rcFile]: USER_RC };
      const sub = await subshell(files);
      const normal = await normalShell(files);
      const diff = diffSnapshots(
        normalized(await normal.snapshot(), normal),
        normalized(await sub.snapshot(), sub),
      );
      expect(diff).to.deep.equal([]);
    });

    if (adapter === zsh) {
      const cases: Array<[string, Record<string, string>, UserEnv]> = [
        ['ZDOTDIR unset', { '.zshrc': USER_RC, '.zshenv': 'ZSHENV_RAN=1\n' }, noVars],
        [
          'ZDOTDIR exported by the user',
          { 'zdot/.zshrc': USER_RC, 'zdot/.zshenv': 'ZSHENV_RAN=1\n' },
          (home) => ({ ZDOTDIR: join(home, 'zdot') }),
        ],
        [
          'ZDOTDIR set by ~/.zshenv',
          { '.zshenv': 'ZSHENV_RAN=1\nZDOTDIR=$HOME/.config/zsh\n', '.config/zsh/.zshrc': USER_RC },
          noVars,
        ],
      ];
      for (const [label, files, userEnv] of cases) {
        it(`reads the user's files where zsh would and leaves ZDOTDIR as it was (${label})`, async () => {
          const sub = await subshell(files, userEnv);
          const normal = await normalShell(files, userEnv);
          for (const sh of [normal, sub]) {
            expect(await read(sh, 'echo "$USER_RC_RAN ${ZSHENV_RAN-} ${+_BLAST_ZDOTDIR}"')).to.equal(
              '1 1 0\n',
            );
          }
          const diff = diffSnapshots(
            normalized(await normal.snapshot(), normal),
            normalized(await sub.snapshot(), sub),
          );
          expect(diff).to.deep.equal([]);
        });
      }
    }
  });
}
