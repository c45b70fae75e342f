/**
 * Revisions through the real CLI: pip transactions, changes made around the shim (`python -m pip`)
 * found when Blast next looks, `blast history`, and `blast load --revision N` back and forward.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeState } from '../src/lib/shell/activation.js';
import {
  type Box,
  daemonBox,
  daemonProcesses,
  killDaemons,
  type Shell,
  shellStart,
  waitFor,
} from '../plugins/daemon/test/support.js';
import { listRevisions, ObjectStore } from '../src/lib/store/index.js';
import { blast, sandbox, throughFunction, type Run, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { tree, treeDiff } from './store/world.js';

interface Entry {
  kind: 'revision' | 'snapshot';
  n?: number;
  name?: string;
  source?: string;
  detail?: string;
  current?: boolean;
  change?: { added: string[]; removed: string[]; upgraded: string[] };
}

describe('revisions and blast history (real CLI, real pip)', function () {
  this.timeout(200_000);
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
  let state: string;

  const pipEnv = () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  const ok = (args: string[], env: Record<string, string> = {}): Run => {
    const run = blast(box, args, { env: { ...pipEnv(), ...env } });
    expect(run.status, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
    return run;
  };
  /** pip through Blast, as the shim runs it. */
  const shimPip = (...args: string[]) =>
    ok(['pip', '--', ...args, ...(args[0] === 'install' ? ['--no-index', '--find-links', wheels] : [])], {
      BLAST_SHELL_STATE: state,
    });
  /** pip around the shim, as `python -m pip` runs it. */
  const modulePip = (...args: string[]) =>
    execFileSync(
      join(envPath, 'bin', 'python'),
      ['-m', 'pip', ...args, ...(args[0] === 'install' ? ['--no-index', '--find-links', wheels] : [])],
      { env: pipEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  const history = (): Entry[] =>
    (JSON.parse(ok(['history', '--env', 'demo', '--json']).stdout) as { entries: Entry[] }).entries;
  const revisions = () => history().filter((e) => e.kind === 'revision');
  const alpha = () =>
    execFileSync(join(envPath, 'bin', 'python'), ['-c', 'import alpha; print(alpha.__version__)'], {
      env: pipEnv(),
      encoding: 'utf8',
    }).trim();
  const envTree = () => tree(envPath, (rel) => rel === 'blast.json' || rel.endsWith('__pycache__'));

  before(async () => {
    box = sandbox();
    const start = throughFunction(box, ['start', 'demo', '--env', 'MODE=one']);
    expect(start.status, start.stderr).to.equal(0);
    state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(start.script)![1]!;
    envPath = decodeState(state).env.path;
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const python = join(envPath, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/extra.py': 'X = 1\n' } });
    buildWheel(python, wheels, 'beta', '1.0', { script: 'beta' });
    // No daemon watches in these tests: what `python -m pip` did is found when Blast next looks.
    killDaemons(box);
    await waitFor('the daemon to be gone', () => daemonProcesses(box).length === 0);
  });
  after(() => box?.cleanup());

  it('a pip transaction records the state before it and after it, with pip’s arguments', () => {
    shimPip('install', 'alpha==1.0');
    const revs = revisions();
    expect(revs.map((r) => [r.n, r.source])).to.deep.equal([
      [1, 'created'],
      [2, 'pip'],
    ]);
    expect(revs[1]!.detail).to.match(/^install alpha==1\.0 --no-index/);
    expect(revs[1]!.change).to.deep.equal({ added: ['alpha 1.0'], removed: [], upgraded: [] });
    expect(revs[1]!.current).to.equal(true);
    // Nothing changed since: reading the history again records nothing.
    expect(revisions()).to.have.length(2);
  });

  it('`python -m pip` changes appear in the history (no daemon running)', () => {
    modulePip('install', 'beta');
    const text = ok(['history', '--env', 'demo']).stdout;
    expect(text).to.match(/^REV\s+TIME\s+WHAT\s+CHANGE\n/);
    expect(text).to.match(/^3\*\s+\S+ \S+\s+outside\s+\+beta 1\.0$/m);
    modulePip('uninstall', '-y', 'beta');
    const revs = revisions();
    expect(revs.at(-1)).to.deep.include({
      n: 4,
      source: 'outside',
      change: { added: [], removed: ['beta 1.0'], upgraded: [] },
    });
  });

  it('load --revision N goes back and forward, exact trees, and is itself recorded', () => {
    const at1 = envTree();
    const back = revisions().at(-1)!.n!;
    shimPip('install', 'alpha==2.0');
    expect(alpha()).to.equal('2.0');
    const at2 = envTree();
    const forward = revisions().at(-1)!.n!;
    expect(revisions().at(-1)!.change!.upgraded).to.deep.equal(['alpha 1.0 -> 2.0']);

    const run = ok(['load', '--env', 'demo', '--revision', String(back)]);
    expect(run.stdout).to.match(
      new RegExp(`^Restored revision ${back} into demo in \\d+ ms: -alpha 2\\.0, \\+alpha 1\\.0`),
    );
    expect(alpha()).to.equal('1.0');
    expect(treeDiff(envTree(), at1)).to.deep.equal([]);
    expect(revisions().at(-1)).to.deep.include({ source: 'load', detail: `revision ${back}`, current: true });

    const json = JSON.parse(
      ok(['load', '--env', 'demo', '--revision', String(forward), '--json']).stdout,
    ) as {
      revision: number;
      recordedAs: number;
    };
    expect(json.revision).to.equal(forward);
    expect(alpha()).to.equal('2.0');
    expect(treeDiff(envTree(), at2)).to.deep.equal([]);
    expect(json.recordedAs).to.equal(revisions().at(-1)!.n);
  });

  it('snapshots share the timeline; a load of one is a revision too', () => {
    ok(['save', '--env', 'demo', 'two']);
    shimPip('uninstall', '-y', 'alpha');
    ok(['load', '--env', 'demo', 'two']);
    const entries = history();
    const snap = entries.findIndex((e) => e.kind === 'snapshot' && e.name === 'two');
    expect(snap).to.be.greaterThan(0);
    expect(entries.slice(snap + 1).map((e) => [e.source, e.detail?.split(' ')[0]])).to.deep.equal([
      ['pip', 'uninstall'],
      ['load', 'two'],
    ]);
    expect(ok(['history', '--env', 'demo', '--limit', '2', '--json']).stdout).to.satisfy(
      (s: string) => (JSON.parse(s) as { entries: Entry[] }).entries.length === 2,
    );
    // load --list keeps listing snapshots, and points at the history.
    expect(ok(['load', '--env', 'demo', '--list']).stdout).to.match(/^NAME\s+SAVED[\s\S]*blast history/);
  });

  it('an unknown revision is a clear error naming the range, and changes nothing', () => {
    const before = envTree();
    const last = revisions().at(-1)!.n!;
    const run = blast(box, ['load', '--env', 'demo', '--revision', '999']);
    expect(run.status).to.equal(3);
    expect(run.stderr).to.include(`There is no revision 999 of ${envPath}: its revisions are 1 to ${last}.`);
    expect(run.stderr).not.to.match(/\n\s+at /);
    const both = blast(box, ['load', '--env', 'demo', 'two', '--revision', '1']);
    expect(both.status).to.equal(2);
    expect(both.stderr).to.include('not both');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    expect(revisions().at(-1)!.n).to.equal(last);
  });

  it('settings in blast.json are kept with a snapshot and put back by load, like variables', () => {
    const file = join(envPath, 'blast.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, settings: { flavour: 'sweet', strict: true } }));
    ok(['save', '--env', 'demo', 'with-settings']);
    writeFileSync(
      file,
      JSON.stringify({ ...config, variables: { MODE: 'two' }, settings: { flavour: 'sour' } }),
    );
    const run = ok(['load', '--env', 'demo', 'with-settings']);
    expect(run.stdout).to.include('variables and settings restored');
    const now = JSON.parse(readFileSync(file, 'utf8')) as { settings: unknown; variables: unknown };
    expect(now.settings).to.deep.equal({ flavour: 'sweet', strict: true });
    expect(now.variables).to.deep.equal({ MODE: 'one' });
  });
});

describe('changes made around the shim, with the daemon watching', function () {
  this.timeout(200_000);
  let box: Box;
  let shell: Shell | undefined;

  before(() => {
    box = daemonBox();
  });
  after(() => {
    shell?.stop();
    if (box) killDaemons(box);
    box?.cleanup();
  });

  it('`python -m pip` changes appear in the history: the daemon has them recorded (source watch)', async () => {
    shell = await shellStart(box, 'watched');
    expect(await shell.read('start.rc')).to.equal('0\n');
    const envPath = (await shell.read('venv')).trim();
    const wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    buildWheel(join(envPath, 'bin', 'python'), wheels, 'gamma', '1.0', { script: 'gamma' });
    const store = ObjectStore.of(box.env);
    await waitFor('the daemon to run', () => daemonProcesses(box).length === 1);
    execFileSync(
      join(envPath, 'bin', 'python'),
      ['-m', 'pip', 'install', '--no-index', '--find-links', wheels, 'gamma'],
      { env: isolatedPipEnv(box.env), stdio: 'ignore' },
    );
    // Read the store directly: `blast history` would record the change itself (source outside).
    const rev = await waitFor(
      'a revision recorded by the daemon',
      () => listRevisions(store, envPath).find((r) => r.change.added.includes('gamma 1.0')),
      30_000,
    );
    expect(rev.source).to.equal('watch');
    const history = JSON.parse(blast(box, ['history', '--path', envPath, '--json']).stdout) as {
      entries: Entry[];
    };
    expect(history.entries.filter((e) => e.kind === 'revision').at(-1)).to.deep.include({
      n: rev.n,
      source: 'watch',
      current: true,
    });
  });
});
