/**
 * Auto-activation (`blast init SHELL --install --auto`) in real interactive bash, zsh and fish
 * (tmux), through the real CLI: `cd` into a project (`.blast-env` naming an environment, or
 * `.venv/pyvenv.cfg`) starts its environment, deeper directories keep it, a nested project and
 * another project switch, `cd` out restores the shell exactly; a manual `blast kill` holds until
 * the project changes; a manual `blast start` is never switched or killed by the hook; a project
 * whose environment cannot start says why and leaves the shell as it was.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, createAndLeave, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { hasShell } from './support/shells.js';
import {
  bashDialect,
  diffSnapshots,
  fishDialect,
  type Snapshot,
  TmuxShell,
  zshDialect,
} from './support/tmux.js';

const SLOW = 180_000;

const SHELLS = [
  { name: 'bash', dialect: bashDialect },
  { name: 'zsh', dialect: zshDialect },
  { name: 'fish', dialect: fishDialect },
] as const;

/** A project-local environment made and left through the function, as a user would. */
function createLocal(box: Sandbox, dir: string): void {
  const started = throughFunction(box, ['start', '--path', dir]);
  if (started.status !== 0) throw new Error(`start --path ${dir} failed: ${started.stderr}`);
  const state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(started.script)![1]!;
  const killed = throughFunction(box, ['kill'], { env: { BLAST_SHELL_STATE: state } });
  if (killed.status !== 0) throw new Error(`kill failed: ${killed.stderr}`);
}

describe('auto-activation on cd (blast init --install --auto) in interactive shells', function () {
  this.timeout(SLOW);
  let box: Sandbox;
  let projects: string;
  let alpha: string;

  before(function () {
    box = sandbox();
    projects = join(box.root, 'projects');
    createAndLeave(box, 'alpha');
    alpha = join(box.blastHome, 'envs', 'alpha');
    mkdirSync(join(projects, 'a', 'sub', 'deep'), { recursive: true });
    writeFileSync(join(projects, 'a', '.blast-env'), 'alpha\n');
    createLocal(box, join(projects, 'a', 'nested', '.venv'));
    createLocal(box, join(projects, 'b', '.venv'));
    mkdirSync(join(projects, 'broken-name'));
    writeFileSync(join(projects, 'broken-name', '.blast-env'), 'missing\n');
    // A venv whose Python is gone: no environment can start from it.
    mkdirSync(join(projects, 'broken-venv', '.venv'), { recursive: true });
    writeFileSync(join(projects, 'broken-venv', '.venv', 'pyvenv.cfg'), 'home = /nonexistent/bin\n');
  });
  after(() => box?.cleanup());

  for (const { name, dialect } of SHELLS) {
    describe(name, function () {
      let sh: TmuxShell;
      let clean: Snapshot;
      const q = dialect.quote;
      const p = (...parts: string[]) => join(projects, ...parts);

      before(async function () {
        if (!hasShell(name)) this.skip();
        let installed: { status: number | null; stderr: string } | undefined;
        sh = await TmuxShell.start({
          shell: name,
          dialect,
          env: (home) => {
            const env = { ...box.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
            installed = spawnSync(process.execPath, [BIN, 'init', name, '--install', '--auto'], {
              env,
              encoding: 'utf8',
            });
            return { BLAST_HOME: box.blastHome, BLAST_CACHE_DIR: box.env.BLAST_CACHE_DIR!, NO_COLOR: '1' };
          },
        });
        expect(installed!.status, installed!.stderr).to.equal(0);
        expect(await sh.run(`cd ${q(projects)}`)).to.equal(0);
        clean = await sh.snapshot();
      });
      after(async () => {
        await sh?.kill();
      });

      /** A variable as the shell has it now (after the hook of the last prompt ran). */
      async function value(variable: string): Promise<string | undefined> {
        const file = join(sh.out, `value-${variable}`);
        const code =
          name === 'fish'
            ? `if set -q ${variable}; printf 'set:%s' "$${variable}"; else; printf unset; end > ${q(file)}`
            : `if [ -n "\${${variable}+x}" ]; then printf 'set:%s' "$${variable}"; else printf unset; fi >| ${q(file)}`;
        expect(await sh.run(code, SLOW)).to.equal(0);
        const text = readFileSync(file, 'utf8');
        return text === 'unset' ? undefined : text.slice('set:'.length);
      }

      async function cd(...parts: string[]): Promise<void> {
        expect(await sh.run(`cd ${q(p(...parts))}`, SLOW)).to.equal(0);
      }

      const venvOf = (...parts: string[]) => realpathSync(p(...parts, '.venv'));

      it('cd into a project starts its environment; deeper keeps it; a nested project switches, and back', async () => {
        await cd('a');
        expect(await value('VIRTUAL_ENV')).to.equal(alpha);
        expect(await value('BLAST_AUTO')).to.equal(p('a'));
        await cd('a', 'sub', 'deep');
        expect(await value('VIRTUAL_ENV')).to.equal(alpha);
        await cd('a', 'nested');
        expect(await value('VIRTUAL_ENV')).to.equal(venvOf('a', 'nested'));
        await cd('a', 'sub');
        expect(await value('VIRTUAL_ENV')).to.equal(alpha);
      });

      it('cd to another project switches; cd out of every project restores the shell exactly', async () => {
        await cd('b');
        expect(await value('VIRTUAL_ENV')).to.equal(venvOf('b'));
        await cd();
        expect(await value('VIRTUAL_ENV')).to.equal(undefined);
        expect(diffSnapshots(clean, await sh.snapshot())).to.deep.equal([]);
      });

      it('a manual blast kill inside a project holds until the project changes', async () => {
        await cd('a');
        expect(await value('VIRTUAL_ENV')).to.equal(alpha);
        expect(await sh.run('blast kill', SLOW)).to.equal(0);
        await cd('a', 'sub');
        expect(await value('VIRTUAL_ENV')).to.equal(undefined);
        await cd();
        await cd('a');
        expect(await value('VIRTUAL_ENV')).to.equal(alpha);
        await cd();
        expect(await value('VIRTUAL_ENV')).to.equal(undefined);
      });

      it('a manual blast start inside an auto project is never switched or killed by the hook', async () => {
        await cd('a');
        expect(await value('VIRTUAL_ENV')).to.equal(alpha);
        expect(await sh.run(`blast start --path ${q(p('b', '.venv'))}`, SLOW)).to.equal(0);
        expect(await value('VIRTUAL_ENV')).to.equal(venvOf('b'));
        expect(await value('BLAST_AUTO')).to.equal(undefined);
        await cd();
        expect(await value('VIRTUAL_ENV')).to.equal(venvOf('b'));
        await cd('a', 'nested');
        expect(await value('VIRTUAL_ENV')).to.equal(venvOf('b'));
        expect(await sh.run('blast kill', SLOW)).to.equal(0);
        await cd();
        expect(diffSnapshots(clean, await sh.snapshot())).to.deep.equal([]);
      });

      it('a project whose environment cannot start: a clear message, the shell as it was', async () => {
        await cd('broken-name');
        expect(await value('VIRTUAL_ENV')).to.equal(undefined);
        expect(await sh.screen()).to.include('names the environment "missing", which does not exist');
        expect(diffSnapshots(clean, await sh.snapshot(), { env: ['PWD'] })).to.deep.equal([]);
        await cd('broken-venv');
        expect(await value('VIRTUAL_ENV')).to.equal(undefined);
        expect(diffSnapshots(clean, await sh.snapshot(), { env: ['PWD'] })).to.deep.equal([]);
        // The shell still works, the hook too.
        await cd('a');
        expect(await value('VIRTUAL_ENV')).to.equal(alpha);
        await cd();
        expect(diffSnapshots(clean, await sh.snapshot())).to.deep.equal([]);
      });
    });
  }
});
