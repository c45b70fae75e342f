/**
 * `blast clean` collects the store's garbage through the real CLI: revisions beyond retention
 * (those a snapshot has are kept), then exactly the objects nothing refers to; what is referenced
 * survives and the environment still loads every snapshot and kept revision.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killDaemons } from '../../plugins/daemon/test/support.js';
import { keyOf, ObjectStore } from '../../src/lib/store/index.js';
import { blast, sandbox, throughFunction, type Sandbox } from '../support/cli.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';
import { tree, treeDiff } from './world.js';

interface Reported {
  what: string;
  why: string;
  bytes?: number;
  done: boolean;
}

describe('blast clean: store garbage collection', function () {
  this.timeout(200_000);
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
  let store: ObjectStore;

  const env = () => {
    const e: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) e[k] = v;
    return { ...e, BLAST_STORE_GC_GRACE_S: '0' };
  };
  const ok = (args: string[]) => {
    const run = blast(box, args, { env: env() });
    expect(run.status, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
    return run;
  };
  const modulePip = (...args: string[]) =>
    execFileSync(
      join(envPath, 'bin', 'python'),
      ['-m', 'pip', ...args, ...(args[0] === 'install' ? ['--no-index', '--find-links', wheels] : [])],
      { env: env(), stdio: 'ignore' },
    );
  const revisionNumbers = () =>
    (JSON.parse(ok(['history', '--env', 'demo', '--json']).stdout) as { entries: { n?: number }[] }).entries
      .map((e) => e.n)
      .filter((n) => n !== undefined);
  const objects = () =>
    new Set(
      readdirSync(store.objects).flatMap((d) =>
        readdirSync(join(store.objects, d))
          .filter((n) => !n.startsWith('.'))
          .map((n) => n),
      ),
    );
  /** What the snapshot and revision files name, read here independently of the code under test. */
  const referenced = () => {
    const refs = new Set<string>();
    const add = (file: string) => {
      const json = JSON.parse(readFileSync(file, 'utf8')) as {
        manifest?: { distributions: { files: { sha256?: string; mode?: number }[] }[] };
        distributions?: { files: { sha256?: string; mode?: number }[] }[];
      };
      for (const d of (json.manifest ?? json).distributions!)
        for (const f of d.files) if (f.sha256) refs.add(keyOf({ sha256: f.sha256, mode: f.mode! }));
    };
    for (const top of ['snapshots', 'revisions'])
      for (const hash of readdirSync(join(store.root, top)))
        for (const f of readdirSync(join(store.root, top, hash)))
          if (/^[^.].*\.json$/.test(f) && f !== 'index.json') add(join(store.root, top, hash, f));
    return refs;
  };
  const cleanJson = (...args: string[]) =>
    (JSON.parse(ok(['clean', '--json', ...args]).stdout) as { actions: Reported[] }).actions;

  before(() => {
    box = sandbox();
    const start = throughFunction(box, ['start', 'demo']);
    expect(start.status, start.stderr).to.equal(0);
    killDaemons(box);
    envPath = join(box.blastHome, 'envs', 'demo');
    store = ObjectStore.of(box.env);
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const python = join(envPath, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/two.py': 'TWO = 2\n' } });
    buildWheel(python, wheels, 'beta', '1.0', { files: { 'beta/only.py': 'B = 1\n' } });
  });
  after(() => box?.cleanup());

  it('frees exactly the unreferenced objects (dry run first); what is referenced survives and loads', () => {
    modulePip('install', 'alpha==1.0');
    ok(['save', '--env', 'demo', 'one']);
    modulePip('install', 'alpha==2.0');
    expect(revisionNumbers()).to.deep.equal([1, 2]); // 1: created; history records the current state (alpha 2.0)
    const at2 = tree(envPath, (rel) => rel === 'blast.json');
    // Objects nothing refers to: stored by a snapshot, which is then replaced.
    modulePip('install', 'beta');
    ok(['save', '--env', 'demo', 'doomed']);
    modulePip('uninstall', '-y', 'beta');
    ok(['load', '--env', 'demo', 'one']);
    ok(['save', '--env', 'demo', 'doomed', '--force']);
    expect(revisionNumbers()).to.deep.equal([1, 2, 3]);
    writeFileSync(join(store.objects, 'ab', '.tmp-999999999-dead-1'), 'half');

    const all = objects();
    const refs = referenced();
    const unreferenced = [...all].filter((k) => !refs.has(k));
    expect(unreferenced.length).to.be.greaterThan(0);
    const unreferencedBytes = unreferenced.reduce(
      (n, k) => n + readFileSync(join(store.objects, k.slice(0, 2), k)).length,
      0,
    );

    const dry = cleanJson('--dry-run').find((a) => a.what.endsWith('store object(s)'))!;
    expect(dry).to.deep.include({ what: `${unreferenced.length} store object(s)`, bytes: unreferencedBytes });
    expect(dry.why).to.match(/store goes from \S+ \S+ to \S+ \S+$/);
    expect(dry.done).to.equal(false);
    expect(objects()).to.deep.equal(all);

    const done = cleanJson();
    expect(done.find((a) => a.what.endsWith('store object(s)'))).to.deep.include({ done: true });
    expect(done.find((a) => a.what.includes('temporary file'))).to.deep.include({ done: true });
    expect([...objects()].sort()).to.deep.equal([...refs].sort());
    expect(existsSync(join(store.objects, 'ab', '.tmp-999999999-dead-1'))).to.equal(false);
    expect(cleanJson('--dry-run').filter((a) => a.what.includes('store'))).to.deep.equal([]);

    expect(ok(['load', '--env', 'demo', 'one']).stdout).to.equal('demo is already as one has it.\n');
    expect(
      execFileSync(join(envPath, 'bin', 'python'), ['-c', 'import alpha; print(alpha.__version__)'], {
        encoding: 'utf8',
      }).trim(),
    ).to.equal('1.0');
    ok(['load', '--env', 'demo', '--revision', '2']);
    expect(
      treeDiff(
        tree(envPath, (rel) => rel === 'blast.json'),
        at2,
      ),
    ).to.deep.equal([]);
  });

  it('retention prunes old revisions first (a snapshot pins its own), then their objects', () => {
    // Revisions now: 1 (created: pip alone), 2 (alpha 2.0), 3 (load one: alpha 1.0, the state both
    // snapshots have), 4 (load revision 2: alpha 2.0).
    modulePip('install', 'beta');
    expect(revisionNumbers()).to.deep.equal([1, 2, 3, 4, 5]);
    modulePip('uninstall', '-y', 'beta');
    expect(revisionNumbers()).to.deep.equal([1, 2, 3, 4, 5, 6]);
    const betaOnly = [...objects()].filter((k) => !referenced().has(k));
    expect(betaOnly).to.deep.equal([]);

    const actions = cleanJson('--keep-revisions', '2');
    const pruned = actions.find((a) => a.what.startsWith('revision'))!;
    expect(pruned.what).to.equal(`revisions 1, 2, 4 of ${envPath}`);
    expect(pruned.why).to.include('beyond the newest 2');
    // Revision 3 is snapshot one's state: kept, with the newest two.
    expect(revisionNumbers()).to.deep.equal([3, 5, 6]);
    expect([...objects()].sort()).to.deep.equal([...referenced()].sort());
    const run = blast(box, ['load', '--env', 'demo', '--revision', '4'], { env: env() });
    expect(run.status).to.equal(3);
    expect(run.stderr).to.include('its revisions are 3, 5, 6 (older ones were removed by `blast clean`)');
    ok(['load', '--env', 'demo', '--revision', '5']);
    execFileSync(join(envPath, 'bin', 'python'), ['-c', 'import beta.only'], { env: env() });
  });
});
