/** `blast save` and `blast load` through the real CLI, with wheels the test builds. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killDaemons } from '../plugins/daemon/test/support.js';
import { blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { tree, treeDiff } from './store/world.js';

describe('blast save / blast load', function () {
  this.timeout(200_000);
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
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
  const ok = (args: string[], env: Record<string, string> = {}) => {
    const run = blast(box, args, { env });
    expect(run.status, run.stderr).to.equal(0);
    return run;
  };
  const variables = () =>
    (JSON.parse(readFileSync(join(envPath, 'blast.json'), 'utf8')) as { variables: Record<string, string> })
      .variables;

  before(() => {
    box = sandbox();
    const start = throughFunction(box, ['start', 'demo', '--env', 'MODE=one']);
    expect(start.status, start.stderr).to.equal(0);
    // No daemon: its `blast record` would store new files before the kill -9 tests' own save does.
    killDaemons(box);
    envPath = join(box.blastHome, 'envs', 'demo');
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const python = join(envPath, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/extra.py': 'X = 1\n' } });
    buildWheel(python, wheels, 'beta', '1.0', { script: 'beta' });
    pip('install', 'alpha==1.0');
  });

  after(() => box?.cleanup());

  it('saves, then loads it back after an upgrade: packages, scripts and variables', () => {
    const saved = JSON.parse(ok(['save', '--env', 'demo', 'first', '--json']).stdout) as {
      name: string;
      distributions: { name: string; version: string }[];
      newObjects: number;
    };
    expect(saved.name).to.equal('first');
    expect(saved.distributions.map((d) => `${d.name} ${d.version}`)).to.include('alpha 1.0');
    expect(saved.newObjects).to.be.greaterThan(0);
    const at1 = tree(envPath);

    pip('install', 'alpha==2.0', 'beta');
    const start = throughFunction(box, ['start', 'demo', '--env', 'MODE=two']);
    expect(start.status, start.stderr).to.equal(0);
    killDaemons(box);
    expect(version()).to.equal('2.0');

    const run = ok(['load', '--env', 'demo', 'first']);
    expect(run.stdout).to.match(
      /^Restored first into demo in \d+ ms: -alpha 2\.0, -beta 1\.0, \+alpha 1\.0 /,
    );
    expect(run.stdout).to.include('variables restored');
    expect(version()).to.equal('1.0');
    expect(execFileSync(join(envPath, 'bin', 'alpha'), { encoding: 'utf8' })).to.equal('alpha 1.0 works\n');
    expect(variables()).to.deep.equal({ MODE: 'one' });
    const cache = (rel: string) => rel.endsWith('__pycache__') && !(rel in at1);
    expect(treeDiff(tree(envPath, cache), at1)).to.deep.equal([]);
    expect(ok(['load', '--env', 'demo', 'first']).stdout).to.equal('demo is already as first has it.\n');
  });

  it('works on the active environment (VIRTUAL_ENV), and lists snapshots', () => {
    pip('install', 'beta');
    ok(['save', 'second'], { VIRTUAL_ENV: envPath });
    const list = JSON.parse(ok(['load', '--list', '--json'], { VIRTUAL_ENV: envPath }).stdout) as {
      name: string;
      distributions: number;
    }[];
    expect(list.map((s) => [s.name, s.distributions])).to.deep.equal([
      ['first', 2],
      ['second', 3],
    ]);
    expect(ok(['load', '--list', '--env', 'demo']).stdout).to.match(
      /^NAME\s+SAVED\s+PYTHON\s+DISTRIBUTIONS\n/,
    );
    // Without a name: the newest.
    pip('uninstall', '-y', 'beta');
    expect(ok(['load'], { VIRTUAL_ENV: envPath }).stdout).to.match(
      /^Restored second into demo .*\+beta 1\.0/,
    );
  });

  it('names problems clearly, without a stack trace, changing nothing', () => {
    const cases: [string[], number, RegExp][] = [
      [['save'], 2, /No environment is active/],
      [['save', '--env', 'demo', 'a/b'], 2, /Invalid snapshot name "a\/b"/],
      [['save', '--env', 'demo', 'first'], 2, /already has a snapshot named first/],
      [['save', '--env', 'nosuch'], 3, /no environment nosuch/],
      [
        ['load', '--env', 'demo', 'nosuch'],
        3,
        /^blast: No snapshot named nosuch in environment demo; snapshots: first, second \(`blast history`/,
      ],
      [['load', '--env', 'demo', '--list', 'first'], 2, /--list takes no snapshot name/],
    ];
    const before = tree(envPath);
    for (const [args, status, message] of cases) {
      const run = blast(box, args);
      expect(run.status, args.join(' ')).to.equal(status);
      expect(run.stderr, args.join(' ')).to.match(message);
      expect(run.stderr).not.to.match(/\n\s+at /);
      if (args[0] === 'load') expect(run.stderr, 'an internal store path').not.to.include(box.blastHome);
    }
    const json = blast(box, ['load', '--env', 'demo', 'nosuch', '--json']);
    expect(JSON.parse(json.stdout).error.exitCode).to.equal(3);
    expect(treeDiff(tree(envPath), before)).to.deep.equal([]);
  });

  it('refuses a corrupt snapshot and lists it as corrupt', () => {
    ok(['save', '--env', 'demo', 'broken']);
    const list = JSON.parse(ok(['load', '--env', 'demo', '--list', '--json']).stdout) as {
      name: string;
      file: string;
    }[];
    const file = list.find((s) => s.name === 'broken')!.file;
    writeFileSync(file, '{"v": 1, "distributions": "nope"');
    const run = blast(box, ['load', '--env', 'demo', 'broken']);
    expect(run.status).to.equal(1);
    expect(run.stderr).to.match(/The snapshot .*broken\.json is corrupt/);
    expect(ok(['load', '--env', 'demo', '--list']).stdout).to.match(/^broken\s+corrupt/m);
  });

  for (const step of ['restore-journaled', 'restore-removing', 'restore-linking', 'restore-linked']) {
    it(`kill -9 of \`blast load\` at ${step}: the next command undoes it`, () => {
      ok(['load', '--env', 'demo', 'first']);
      const first = tree(envPath, (rel) => rel === 'blast.json');
      pip('install', 'alpha==2.0', 'beta');
      const killed = blast(box, ['load', '--env', 'demo', 'second'], { env: { BLAST_TEST_CRASH_AT: step } });
      expect(killed.status).to.equal(128); // killed by a signal
      // A load is a transaction (its postInstall never ran): `blast save` undoes the interrupted
      // load before it looks, so it saves the state from before the load.
      const saved = JSON.parse(ok(['save', '--env', 'demo', `after-${step}`, '--json']).stdout) as {
        distributions: { name: string; version: string }[];
      };
      expect(saved.distributions.map((d) => `${d.name} ${d.version}`)).to.deep.equal([
        'alpha 2.0',
        'beta 1.0',
        'pip ' + saved.distributions.find((d) => d.name === 'pip')!.version,
      ]);
      ok(['load', '--env', 'demo', 'first']);
      expect(
        treeDiff(
          tree(envPath, (rel) => rel === 'blast.json'),
          first,
        ),
      ).to.deep.equal([]);
    });
  }

  it('kill -9 of `blast save` while storing an object: no half object, and the next save cleans up', () => {
    // A file the store cannot have yet: pip's byte-compiled files only differ from ones stored
    // earlier when the install falls in another second, so they cannot be relied on.
    buildWheel(join(envPath, 'bin', 'python'), wheels, 'fresh', '1.0', {
      files: { 'fresh/token.txt': `${process.pid} ${Date.now()} ${Math.random()}\n` },
    });
    pip('install', 'fresh');
    const before = tree(envPath);
    const killed = blast(box, ['save', '--env', 'demo', 'torn'], {
      env: { BLAST_TEST_CRASH_AT: 'store-object-temp' },
    });
    expect(killed.status).to.equal(128);
    expect(treeDiff(tree(envPath), before)).to.deep.equal([]);
    const temps = () =>
      Object.keys(tree(join(box.blastHome, 'store', 'objects'))).filter((p) => p.includes('/.tmp-'));
    expect(temps()).to.have.length(1);
    ok(['save', '--env', 'demo', 'torn']);
    expect(temps()).to.deep.equal([]);
    ok(['load', '--env', 'demo', 'first']);
  });

  it('kill -9 of `blast save` before its snapshot is in place leaves no snapshot and no change', () => {
    const before = tree(envPath);
    const killed = blast(box, ['save', '--env', 'demo', 'half'], {
      env: { BLAST_TEST_CRASH_AT: 'save-manifest-temp' },
    });
    expect(killed.status).to.equal(128);
    const list = JSON.parse(ok(['load', '--env', 'demo', '--list', '--json']).stdout) as { name: string }[];
    expect(list.map((s) => s.name)).to.not.include('half');
    expect(treeDiff(tree(envPath), before)).to.deep.equal([]);
    ok(['save', '--env', 'demo', 'half']);
  });
});
