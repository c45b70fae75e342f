/**
 * Data safety through the real CLI: history is never deleted because an environment merely looks
 * gone; a rebuilt registry finds project environments again; a half-done state a kill -9 (or a
 * deleted journal) leaves is finished or reported before anything trusts it.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killDaemons } from '../plugins/daemon/test/support.js';
import { envStateDir, ObjectStore, revisionsDir } from '../src/lib/store/index.js';
import { blast, createAndLeave, sandbox, throughFunction, type Run, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { tree, treeDiff } from './store/world.js';

interface Check {
  name: string;
  env?: string;
  status: string;
  source: string;
  message: string;
  repaired?: boolean;
}

describe('data safety', function () {
  this.timeout(200_000);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  const envPath = (name: string) => join(box.blastHome, 'envs', name);
  const ok = (args: string[], env: Record<string, string> = {}): Run => {
    const run = blast(box, args, { env });
    expect(run.status, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
    return run;
  };
  const start = (args: string[], env: Record<string, string> = {}) =>
    throughFunction(box, ['start', ...args], { env });
  const listed = () =>
    (JSON.parse(ok(['list', '--json', '--no-size']).stdout) as Array<{ name: string; path: string }>)
      .map((e) => [e.name, e.path])
      .sort();
  const check = (args: string[] = []) => {
    const run = blast(box, ['check', '--json', ...args]);
    return { status: run.status, ...(JSON.parse(run.stdout) as { ok: boolean; checks: Check[] }) };
  };
  const revisionFiles = (path: string) => {
    const dir = revisionsDir(ObjectStore.of(box.env), path);
    return existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.json$/.test(f)) : [];
  };
  /** `blast history` records the current state: revision 1. */
  const withHistory = (name: string) => {
    ok(['history', '--env', name, '--json']);
    expect(revisionFiles(envPath(name)), name).to.deep.equal(['1.json']);
  };

  describe('history of an environment that looks gone', () => {
    it('plain clean keeps it (reported as orphaned); only clean NAME --yes or --orphaned-history removes it', () => {
      for (const name of ['broken', 'moved', 'doomed', 'removed']) {
        // Left again at once: an environment active in a shell is not for `clean NAME` to delete.
        createAndLeave(box, name);
        withHistory(name);
      }
      // A missing pyvenv.cfg, and a folder that is not there (unmounted disk, or rm -rf).
      rmSync(join(envPath('broken'), 'pyvenv.cfg'));
      const aside = join(box.root, 'unmounted');
      renameSync(envPath('moved'), aside);
      rmSync(envPath('removed'), { recursive: true });

      const dry = ok(['clean', '--dry-run']);
      expect(dry.stdout).to.match(/^kept revision 1 of .*moved: its environment folder is gone/m);
      expect(dry.stdout).not.to.match(/would remove revision/);
      ok(['clean']);
      expect(revisionFiles(envPath('broken'))).to.deep.equal(['1.json']);
      expect(revisionFiles(envPath('moved'))).to.deep.equal(['1.json']);
      expect(revisionFiles(envPath('removed'))).to.deep.equal(['1.json']);
      const orphaned = check().checks.filter((c) => c.name === 'orphaned history');
      expect(orphaned.map((c) => [c.status, c.message.split(':')[0]]).sort()).to.deep.equal([
        ['warn', `revision 1 of ${envPath('moved')}`],
        ['warn', `revision 1 of ${envPath('removed')}`],
      ]);
      // Named by the user after an rm -rf: what is left of it goes.
      expect(ok(['clean', 'removed', '--yes']).stdout).to.include(`removed the history of removed`);
      expect(revisionFiles(envPath('removed'))).to.deep.equal([]);
      // The disk is back: nothing was lost.
      renameSync(aside, envPath('moved'));
      ok(['load', '--env', 'moved', '--revision', '1']);

      // The user removing one through Blast: its history goes with it.
      ok(['clean', 'doomed', '--yes']);
      expect(revisionFiles(envPath('doomed'))).to.deep.equal([]);
      expect(revisionFiles(envPath('moved'))).to.deep.equal(['1.json']);

      // Asked for by name: the orphaned history goes; the broken one's stays.
      rmSync(envPath('moved'), { recursive: true });
      const gone = JSON.parse(ok(['clean', '--orphaned-history', '--json']).stdout) as {
        actions: Array<{ what: string; done: boolean }>;
      };
      expect(gone.actions.find((a) => a.what === `revision 1 of ${envPath('moved')}`)?.done).to.equal(true);
      expect(revisionFiles(envPath('moved'))).to.deep.equal([]);
      expect(revisionFiles(envPath('broken'))).to.deep.equal(['1.json']);
    });
  });

  describe('a rebuilt registry', () => {
    it('check --fix on a corrupt registry finds named and --path environments again', () => {
      const project = join(box.root, 'project');
      mkdirSync(project);
      expect(start(['named']).status).to.equal(0);
      expect(start(['--path', join(project, '.venv')]).status).to.equal(0);
      const before = listed();
      expect(before).to.deep.equal([
        ['named', envPath('named')],
        ['project', join(project, '.venv')],
      ]);
      writeFileSync(join(box.blastHome, 'state', 'registry.db'), 'garbage\n{not json\n');
      expect(blast(box, ['list', '--json']).status).not.to.equal(0);
      const fixed = check(['--fix']);
      expect(fixed.checks.find((c) => c.name === 'registry readable')?.repaired).to.equal(true);
      expect(listed()).to.deep.equal(before);
      expect(check().ok).to.equal(true);
    });
  });

  describe('an environment the registry lost', () => {
    it('clean forgot it while its disk was away: start registers it again before using it, history intact', () => {
      const project = join(box.root, 'project');
      mkdirSync(project);
      const path = join(project, '.venv');
      expect(start(['--path', path]).status).to.equal(0);
      ok(['history', '--path', path, '--json']);
      renameSync(project, join(box.root, 'unmounted'));
      ok(['clean']);
      expect(listed()).to.deep.equal([]);
      renameSync(join(box.root, 'unmounted'), project);
      const back = start(['--path', path]);
      expect(back.status, back.stderr).to.equal(0);
      expect(back.stderr).to.include(`registered project (${path}), which the registry did not list`);
      expect(listed()).to.deep.equal([['project', path]]);
      expect(revisionFiles(path)).to.deep.equal(['1.json']);
    });
  });

  describe('kill -9 between creating a venv and registering it', () => {
    for (const kind of ['named', 'local'] as const) {
      it(`${kind}: check reports it, and the next start registers it before using it`, () => {
        const project = join(box.root, 'project');
        mkdirSync(project);
        const args = kind === 'named' ? ['demo'] : ['--path', join(project, '.venv')];
        const path = kind === 'named' ? envPath('demo') : join(project, '.venv');
        const name = kind === 'named' ? 'demo' : 'project';
        const crashed = start(args, { BLAST_TEST_CRASH_AT: 'create-registering' });
        expect(crashed.status).to.equal(128); // SIGKILL
        expect(existsSync(join(path, 'pyvenv.cfg'))).to.equal(true);
        expect(listed()).to.deep.equal([]);

        // check sees it, and --fix registers it.
        const seen = check();
        expect(
          seen.checks.find((c) => c.name === 'registry and disk agree' && c.env === name)?.status,
        ).to.equal('warn');
        const again = start(args);
        expect(again.status, again.stderr).to.equal(0);
        expect(again.stderr).to.include(`registered ${name} (${path}), whose creation was interrupted`);
        expect(listed()).to.deep.equal([[name, path]]);
        expect(existsSync(join(path, '.blast-registering'))).to.equal(false);
        expect(start(args).stderr).not.to.include('registered');
      });
    }
  });

  describe('a restore whose journal was deleted after a crash', () => {
    it('start and save refuse the half-restored environment, check fails, and check --fix restores it', () => {
      expect(start(['demo']).status).to.equal(0);
      killDaemons(box);
      const path = envPath('demo');
      const python = join(path, 'bin', 'python');
      const wheels = join(box.root, 'wheels');
      mkdirSync(wheels);
      buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
      buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/two.py': 'TWO = 2\n' } });
      const pipEnv: Record<string, string> = {};
      for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) pipEnv[k] = v;
      const pip = (...args: string[]) =>
        execFileSync(python, ['-m', 'pip', 'install', '--no-index', '--find-links', wheels, ...args], {
          env: pipEnv,
          stdio: 'ignore',
        });
      const envTree = () => tree(path, (rel) => rel === 'blast.json' || rel.endsWith('.pyc'));
      pip('alpha==1.0');
      ok(['save', '--env', 'demo', 'one']);
      const one = envTree();
      pip('alpha==2.0');
      ok(['history', '--env', 'demo']);

      const crashed = blast(box, ['load', '--env', 'demo', 'one'], {
        env: { BLAST_TEST_CRASH_AT: 'restore-linking' },
      });
      expect(crashed.status).to.equal(128);
      // What a user cleaning up would delete: Blast's state of the environment, journal and all.
      rmSync(envStateDir(path, box.env), { recursive: true });

      const refused = start(['demo']);
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.include(`${path} was being restored (to alpha 1.0`);
      expect(refused.stderr).to.include('blast check --fix');
      expect(refused.script).to.equal('');
      const save = blast(box, ['save', '--env', 'demo', 'broken']);
      expect(save.status).to.equal(1);
      expect(save.stderr).to.include('was being restored');

      const sick = check();
      expect(sick.status).to.equal(5);
      const found = sick.checks.find((c) => c.name === 'no interrupted change' && c.env === 'demo');
      expect(found?.status).to.equal('fail');
      expect(found?.message).to.include('the journal that would finish it is gone');
      const fixed = check(['--fix']);
      expect(fixed.checks.find((c) => c.name === 'no interrupted change')?.repaired).to.equal(true);
      expect(treeDiff(envTree(), one)).to.deep.equal([]);
      expect(check().ok).to.equal(true);
      expect(start(['demo']).status).to.equal(0);
    });
  });

  describe('temporary names a killed Blast left in an environment', () => {
    it('check reports those of dead processes and --fix removes them; clean does too; others are left', () => {
      expect(start(['demo']).status).to.equal(0);
      const path = envPath('demo');
      const sp = readdirSync(join(path, 'lib')).map((d) => join(path, 'lib', d, 'site-packages'))[0]!;
      const dead = [join(sp, '.tmp-999999999-0123abcd-1'), join(path, 'bin', '.tmp-999999998-deadbeef-7')];
      // A live process older than the file (this one) may be writing it; other names are not Blast's.
      const kept = [
        join(sp, `.tmp-${process.pid}-0123abcd-1`),
        join(sp, '.tmp-999999999-notatag-1'),
        join(sp, '.tmp-999999999-0123abcd-1.py'),
      ];
      for (const f of [...dead, ...kept]) writeFileSync(f, 'half');
      const found = check().checks.find((c) => c.name === 'no leftover temporary files');
      expect(found?.status).to.equal('warn');
      expect(found?.message).to.include('.tmp-999999999-0123abcd-1');
      check(['--fix']);
      expect(dead.filter((f) => existsSync(f))).to.deep.equal([]);
      expect(kept.filter((f) => existsSync(f))).to.deep.equal(kept);
      expect(check().checks.find((c) => c.name === 'no leftover temporary files')).to.equal(undefined);

      writeFileSync(dead[0]!, 'half');
      const dry = ok(['clean', '--dry-run']);
      expect(dry.stdout).to.include(`would remove 1 temporary file(s) in ${path}`);
      expect(existsSync(dead[0]!)).to.equal(true);
      ok(['clean']);
      expect(existsSync(dead[0]!)).to.equal(false);
      expect(kept.filter((f) => existsSync(f))).to.deep.equal(kept);
    });
  });
});
