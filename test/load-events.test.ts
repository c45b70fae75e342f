/**
 * `blast load NAME` and `blast load --revision N` go through the same preInstall/postInstall
 * events as a pip command (API 1.4: source load / revision, with the planned change), so a
 * plugin's policy sees them: a veto stops the load before anything changes, a postInstall failure
 * puts the environment back. Real CLI, a linked fixture plugin, real pip, wheels built here.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killDaemons } from '../plugins/daemon/test/support.js';
import { listRevisions, ObjectStore } from '../src/lib/store/index.js';
import { blast, FIXTURES, linkPlugin, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { tree, treeDiff } from './store/world.js';

interface Logged {
  event: string;
  command?: string;
  args?: string[];
  exitCode?: number;
  source?: string;
  planned?: { added: string[]; removed: string[]; upgraded: string[] };
  changed?: { added: string[]; removed: string[]; upgraded: string[] };
}

describe('blast load goes through preInstall/postInstall (real CLI, fixture plugin)', function () {
  this.timeout(200_000);
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
  let log: string;
  const pipEnv = isolatedPipEnv();

  const pip = (...args: string[]) =>
    execFileSync(
      join(envPath, 'bin', 'pip'),
      [...args, ...(args[0] === 'install' ? ['--no-index', '--find-links', wheels] : [])],
      { env: pipEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  const version = () =>
    execFileSync(join(envPath, 'bin', 'python'), ['-c', 'import alpha; print(alpha.__version__)'], {
      env: pipEnv,
      encoding: 'utf8',
    }).trim();
  const load = (args: string[], fixture: object = {}) =>
    blast(box, ['load', '--env', 'demo', ...args], {
      env: { BLAST_FIXTURE: JSON.stringify(fixture), BLAST_FIXTURE_LOG: log },
    });
  const events = (): Logged[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Logged)
      : [];
  const envTree = () => tree(envPath, (rel) => rel === 'blast.json' || rel.endsWith('__pycache__'));

  before(() => {
    box = sandbox();
    log = join(box.root, 'events.log');
    linkPlugin(box, join(FIXTURES, 'blast-fixture'));
    const start = throughFunction(box, ['start', 'demo']);
    expect(start.status, start.stderr).to.equal(0);
    killDaemons(box);
    envPath = join(box.blastHome, 'envs', 'demo');
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const python = join(envPath, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/extra.py': 'X = 1\n' } });
    pip('install', 'alpha==1.0');
    const save = blast(box, ['save', '--env', 'demo', 'one']);
    expect(save.status, save.stderr).to.equal(0);
    pip('install', 'alpha==2.0');
  });
  after(() => box?.cleanup());
  beforeEach(() => writeFileSync(log, ''));

  it('a load runs preInstall (source load, the planned change) and postInstall (what changed)', () => {
    const run = load(['one']);
    expect(run.status, run.stderr).to.equal(0);
    expect(version()).to.equal('1.0');
    const change = { added: [], removed: [], upgraded: ['alpha 2.0 -> 1.0'] };
    expect(events().map((e) => e.event)).to.deep.equal(['preInstall', 'postInstall']);
    const [pre, post] = events();
    expect(pre).to.deep.include({ command: 'other', args: [], source: 'load', planned: change });
    expect(post).to.deep.include({ source: 'load', exitCode: 0, changed: change });
  });

  it('a preInstall veto stops the load: its exit code, nothing changed', () => {
    pip('install', 'alpha==2.0');
    const before = envTree();
    const run = load(['one'], { preInstall: { error: 'not today', exit: 7 } });
    expect(run.status).to.equal(7);
    expect(run.stderr).to.include('preInstall stopped by plugin blast-fixture: not today');
    expect(run.stderr).not.to.match(/\n\s+at /);
    expect(events().map((e) => e.event)).to.deep.equal(['preInstall']);
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    expect(version()).to.equal('2.0');
  });

  it('a postInstall failure puts the environment back as it was before the load', () => {
    const before = envTree();
    const run = load(['one'], { postInstall: { throw: 'over quota' } });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('postInstall failed in plugin blast-fixture: over quota');
    expect(run.stderr).to.include('demo was put back as it was before loading one');
    expect(run.stderr).to.include('put back alpha 2.0 (instead of 1.0)');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    expect(version()).to.equal('2.0');
  });

  it('load --revision N is source revision', () => {
    const revisions = listRevisions(ObjectStore.of(box.env), envPath);
    const one = revisions.find((r) => r.distributions.includes('alpha 1.0'));
    expect(one, JSON.stringify(revisions)).to.not.equal(undefined);
    const run = load(['--revision', String(one!.n)]);
    expect(run.status, run.stderr).to.equal(0);
    expect(version()).to.equal('1.0');
    expect(events().map((e) => [e.event, e.source])).to.deep.equal([
      ['preInstall', 'revision'],
      ['postInstall', 'revision'],
    ]);
  });
});
