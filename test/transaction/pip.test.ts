/**
 * pip transactions through the real CLI, in an environment made by `blast start`, with real pip
 * and wheels built here (offline: --no-index --find-links): what pip changes is committed or, when
 * pip fails half way or a postInstall handler fails, undone to the exact file tree of before.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeState } from '../../src/lib/shell/activation.js';
import { storeDir } from '../../src/lib/store/index.js';
import { supportedByVersion } from '../python/world.js';
import {
  blast,
  FIXTURES,
  linkPlugin,
  sandbox,
  throughFunction,
  type Run,
  type Sandbox,
} from '../support/cli.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';
import { tree, treeDiff } from '../store/world.js';

interface Logged {
  event: string;
  command?: string;
  args?: string[];
  exitCode?: number;
  changed?: { added: string[]; removed: string[]; upgraded: string[] };
}

describe('pip transactions (real CLI, real pip)', function () {
  this.timeout(180_000);
  let box: Sandbox;
  let wheels: string;
  let log: string;
  let script: string;
  let envPath: string;
  let state: string;

  const pipEnv = () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  const pip = (args: string[], fixture: object = {}): Run =>
    blast(box, ['pip', '--', ...args], {
      env: {
        ...pipEnv(),
        BLAST_SHELL_STATE: state,
        BLAST_FIXTURE: JSON.stringify(fixture),
        BLAST_FIXTURE_LOG: log,
      },
    });
  const install = (...what: string[]) => ['install', '--no-index', '--find-links', wheels, ...what];
  const events = (): Logged[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Logged)
      : [];
  const python = (code: string) =>
    execFileSync(join(envPath, 'bin', 'python'), ['-c', code], { env: pipEnv(), encoding: 'utf8' }).trim();
  const alphaVersion = () => python('import alpha; print(alpha.__version__)');
  // Bytecode pip or python itself may write for pip's own modules is not the transaction's business.
  const envTree = () => tree(envPath, (rel) => rel === 'blast.json');

  before(async function () {
    const py = (await supportedByVersion()).at(-1);
    if (!py) throw new Error('no supported Python on this machine');
    box = sandbox();
    log = join(box.root, 'events.log');
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    buildWheel(py.executable, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(py.executable, wheels, 'alpha', '2.0', {
      script: 'alpha',
      files: { 'alpha/sub/__init__.py': '', 'alpha/sub/deep/mod.py': 'X = 2\n' },
    });
    // Needs alpha 2.0, so pip upgrades alpha first, then fails installing this one half way:
    // its files are written when pip finds that its console script has no callable.
    buildWheel(py.executable, wheels, 'broken', '1.0', {
      files: {
        'broken-1.0.dist-info/METADATA':
          'Metadata-Version: 2.1\nName: broken\nVersion: 1.0\nRequires-Dist: alpha==2.0\n',
        'broken-1.0.dist-info/entry_points.txt': '[console_scripts]\nbroken = not a valid: spec::\n',
        'broken/data.py': 'DATA = 1\n',
      },
    });
    linkPlugin(box, join(FIXTURES, 'blast-fixture'));
    const run = throughFunction(box, ['start', 'demo']);
    expect(run.status, run.stderr).to.equal(0);
    script = join(box.root, 'start.sh');
    writeFileSync(script, run.script);
    state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(run.script)![1]!;
    envPath = decodeState(state).env.path;
  });
  after(() => box?.cleanup());
  beforeEach(() => writeFileSync(log, ''));
  const storeFiles = () =>
    existsSync(storeDir(box.env))
      ? (readdirSync(storeDir(box.env), { recursive: true }) as string[])
          .filter((f) => !f.endsWith('.lock'))
          .sort()
      : [];

  it('`command -v pip` after start is the shim; pip --version and pip list run through it without a snapshot', () => {
    // The store as creation left it (revision 1, "created"): a read-only pip adds nothing to it.
    const storeBefore = storeFiles();
    const run = spawnSync(
      'bash',
      ['-c', `source "$1" && command -v pip && command -v pip3 && pip --version && pip list`, 'bash', script],
      { env: { ...pipEnv(), BLAST_FIXTURE_LOG: log }, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).to.equal(0);
    const [pipPath, pip3Path, version] = run.stdout.split('\n');
    expect(pipPath).to.match(/\/shim\/\d+\.\d+-[0-9a-f]{12}\/pip$/);
    expect(pip3Path).to.equal(`${pipPath}3`);
    expect(readFileSync(pipPath!, 'utf8')).to.include(`pip -- "$@"`);
    expect(version).to.match(/^pip \S+ from /);
    expect(version).to.include(envPath);
    expect(run.stdout).to.match(/^pip +\S+$/m);
    // Read-only: no hooks, and no snapshot (nothing added to the store).
    expect(events()).to.deep.equal([]);
    expect(storeFiles()).to.deep.equal(storeBefore);
  });

  it('install alpha 1.0: pip runs between preInstall and postInstall, which sees what changed', () => {
    const run = pip(install('alpha==1.0'));
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include('Successfully installed alpha-1.0');
    expect(alphaVersion()).to.equal('1.0');
    const [pre, post] = events();
    expect(pre).to.deep.include({ event: 'preInstall', command: 'install', args: install('alpha==1.0') });
    expect(post).to.deep.include({
      event: 'postInstall',
      command: 'install',
      exitCode: 0,
      changed: { added: ['alpha 1.0'], removed: [], upgraded: [] },
    });
    expect(events()).to.have.length(2);
    expect(existsSync(storeDir(box.env))).to.equal(true);
  });

  it('an install that fails half way (after upgrading a dependency) leaves the env exactly as before, and says so', () => {
    const before = envTree();
    const run = pip(install('broken'));
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('Invalid script entry point');
    expect(run.stderr).to.include(
      'blast: pip exited with status 1; the environment was put back as it was before this pip command:',
    );
    expect(run.stderr).to.include('  removed broken 1.0\n');
    expect(run.stderr).to.include('  put back alpha 1.0 (instead of 2.0)\n');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    expect(alphaVersion()).to.equal('1.0');
    // postInstall saw the failure and what pip had done before it.
    expect(events().at(-1)).to.deep.include({
      event: 'postInstall',
      exitCode: 1,
      changed: { added: ['broken 1.0'], removed: [], upgraded: ['alpha 1.0 -> 2.0'] },
    });
  });

  it('a preInstall veto stops pip: plugin named, its exit code, nothing changed', () => {
    const before = envTree();
    const run = pip(install('alpha==2.0'), { preInstall: { error: 'no upgrades on Fridays', exit: 7 } });
    expect(run.status).to.equal(7);
    expect(run.stderr).to.include('preInstall stopped by plugin blast-fixture: no upgrades on Fridays');
    expect(run.stderr).not.to.match(/\n\s+at /); // no stack trace
    expect(run.stdout).not.to.include('Installing');
    expect(events().map((e) => e.event)).to.deep.equal(['preInstall']);
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
  });

  it('a postInstall failure rolls back a successful upgrade', () => {
    const before = envTree();
    const run = pip(install('alpha==2.0'), { postInstall: { throw: 'pip check failed' } });
    expect(run.stdout).to.include('Successfully installed alpha-2.0');
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('postInstall failed in plugin blast-fixture: pip check failed');
    expect(run.stderr).to.include('the environment was put back as it was before this pip command:');
    expect(run.stderr).to.include('  put back alpha 1.0 (instead of 2.0)\n');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    expect(alphaVersion()).to.equal('1.0');
  });

  it('uninstall is a transaction too, and pip list sees the result', () => {
    const run = pip(['uninstall', '-y', 'alpha']);
    expect(run.status, run.stderr).to.equal(0);
    expect(events().at(-1)).to.deep.include({
      event: 'postInstall',
      command: 'uninstall',
      changed: { added: [], removed: ['alpha 1.0'], upgraded: [] },
    });
    const list = pip(['list', '--format=freeze']);
    expect(list.status, list.stderr).to.equal(0);
    expect(list.stdout).not.to.match(/^alpha==/m);
  });

  it('without an active Blast environment it refuses with a hint', () => {
    const run = blast(box, ['pip', '--', 'install', 'x'], { env: pipEnv() });
    expect(run.status).to.equal(3);
    expect(run.stderr).to.include('No Blast environment is active');
    expect(run.stderr).to.include('python -m pip');
  });
});
