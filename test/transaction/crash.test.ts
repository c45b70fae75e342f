/**
 * kill -9 of a pip transaction at each step of install-commit and of rollback, through the real
 * CLI with real pip: the next Blast command finishes (past the commit point) or undoes it, and the
 * environment is exactly the old or the new state, never a mix. pip itself still running after
 * Blast was killed makes the next command refuse, not touch the environment.
 */
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeState } from '../../src/lib/shell/activation.js';
import {
  journalPath,
  TRANSACTION_CRASH_STEPS,
  transactionJournalPath,
  type TransactionJournal,
} from '../../src/lib/store/index.js';
import { killDaemons, waitFor } from '../../plugins/daemon/test/support.js';
import { BIN, blast, sandbox, throughFunction, type Run, type Sandbox } from '../support/cli.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';
import { tree, treeDiff } from '../store/world.js';

describe('pip transactions killed with -9 (real CLI, real pip)', function () {
  this.timeout(300_000);
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
  let state: string;
  let oldTree: Record<string, string>;
  let newTree: Record<string, string>;

  const pipEnv = () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  const run = (args: string[], env: Record<string, string> = {}): Run =>
    blast(box, args, { env: { ...pipEnv(), BLAST_SHELL_STATE: state, ...env } });
  const ok = (args: string[]) => {
    const r = run(args);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r;
  };
  const install = (what: string) => ['pip', '--', 'install', '--no-index', '--find-links', wheels, what];
  // Bytecode embeds its source's mtime, which each install sets anew: which .pyc files exist is
  // compared, not their bytes.
  const envTree = () =>
    Object.fromEntries(
      Object.entries(tree(envPath, (rel) => rel === 'blast.json')).map(([k, v]) => [
        k,
        k.endsWith('.pyc') ? 'pyc' : v,
      ]),
    );
  const journal = () =>
    JSON.parse(readFileSync(transactionJournalPath(envPath, box.env), 'utf8')) as TransactionJournal;
  // An orphan's zombie may linger where nothing reaps it (containers): that counts as gone.
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  /** Back to alpha 1.0 through Blast itself, checked. */
  const reset = () => {
    ok(['load', '--env', 'demo', 'old']);
    expect(treeDiff(envTree(), oldTree)).to.deep.equal([]);
  };

  before(() => {
    box = sandbox();
    const start = throughFunction(box, ['start', 'demo']);
    expect(start.status, start.stderr).to.equal(0);
    state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(start.script)![1]!;
    envPath = decodeState(state).env.path;
    killDaemons(box);
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const python = join(envPath, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', {
      script: 'alpha',
      files: { 'alpha/sub/__init__.py': '', 'alpha/sub/deep/mod.py': 'X = 2\n' },
    });
    // Upgrades alpha to 2.0, then fails half way (its console script has no callable).
    buildWheel(python, wheels, 'broken', '1.0', {
      files: {
        'broken-1.0.dist-info/METADATA':
          'Metadata-Version: 2.1\nName: broken\nVersion: 1.0\nRequires-Dist: alpha==2.0\n',
        'broken-1.0.dist-info/entry_points.txt': '[console_scripts]\nbroken = not a valid: spec::\n',
        'broken/data.py': 'DATA = 1\n',
      },
    });
    ok(install('alpha==1.0'));
    ok(['save', '--env', 'demo', 'old']);
    oldTree = envTree();
    ok(install('alpha==2.0'));
    newTree = envTree();
    reset();
  });
  after(() => box?.cleanup());

  const commitSteps = ['transaction-committing', 'transaction-recorded'];
  for (const step of TRANSACTION_CRASH_STEPS.filter((s) => !s.startsWith('transaction-roll'))) {
    const finished = commitSteps.includes(step);
    it(`install killed at ${step}: the next command ${finished ? 'finishes' : 'undoes'} it`, async () => {
      const killed = run(install('alpha==2.0'), { BLAST_TEST_CRASH_AT: step });
      expect(killed.status, killed.stderr).to.equal(128);
      if (step === 'transaction-pip-running') {
        // Blast died right after starting pip, which lives on: wait for it before looking.
        const { pipPid } = journal();
        await waitFor('the orphaned pip to exit', () => !alive(pipPid!), 60_000);
      }
      expect(existsSync(transactionJournalPath(envPath, box.env))).to.equal(true);
      // `blast history` is the next command touching the environment.
      const history = JSON.parse(ok(['history', '--env', 'demo', '--json']).stdout) as {
        entries: { source?: string; detail?: string; change?: { upgraded: string[] } }[];
      };
      expect(existsSync(transactionJournalPath(envPath, box.env))).to.equal(false);
      expect(treeDiff(envTree(), finished ? newTree : oldTree)).to.deep.equal([]);
      const last = history.entries.filter((e) => e.source).at(-1)!;
      if (finished) expect(last).to.deep.include({ source: 'pip', change: last.change });
      if (finished) expect(last.change!.upgraded).to.deep.equal(['alpha 1.0 -> 2.0']);
      if (finished) reset();
    });
  }

  for (const step of [
    'transaction-rolling-back',
    'restore-journaled',
    'restore-linking',
    'transaction-rolled-back',
  ]) {
    it(`a failed install killed during its rollback at ${step}: the next command completes the undo`, () => {
      const killed = run(install('broken'), { BLAST_TEST_CRASH_AT: step });
      expect(killed.status).to.equal(128);
      expect(existsSync(transactionJournalPath(envPath, box.env))).to.equal(true);
      ok(['save', '--env', 'demo', `after-${step}`]); // save recovers first, then saves
      expect(existsSync(transactionJournalPath(envPath, box.env))).to.equal(false);
      expect(treeDiff(envTree(), oldTree)).to.deep.equal([]);
    });
  }

  it('two commands recovering at once: the one that waited for the lock finds the work done', async () => {
    const killed = run(install('alpha==2.0'), { BLAST_TEST_CRASH_AT: 'transaction-pip-done' });
    expect(killed.status, killed.stderr).to.equal(128);
    // The first command saw the interrupted transaction, and is held before the lock.
    const pause = join(box.root, 'recover-paused');
    const first = spawn(process.execPath, [BIN, 'history', '--env', 'demo'], {
      env: {
        ...box.env,
        ...pipEnv(),
        BLAST_SHELL_STATE: state,
        BLAST_TEST_PAUSE_AT: 'recover-locking',
        BLAST_TEST_PAUSE_FILE: pause,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    first.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => first.on('exit', (code) => done(code)));
    await waitFor('the first recovery to pause', () => existsSync(pause), 60_000);
    // Meanwhile the second undoes it.
    ok(['history', '--env', 'demo']);
    expect(existsSync(transactionJournalPath(envPath, box.env))).to.equal(false);
    rmSync(pause);
    expect(await exited, stderr).to.equal(0);
    expect(treeDiff(envTree(), oldTree)).to.deep.equal([]);
  });

  it('`blast check` reports an interrupted transaction (fail, with a fix) and `check --fix` undoes it', () => {
    const killed = run(install('alpha==2.0'), { BLAST_TEST_CRASH_AT: 'transaction-pip-done' });
    expect(killed.status).to.equal(128);
    const found = () =>
      (
        JSON.parse(run(['check', '--json']).stdout) as {
          checks: { name: string; status: string; message: string; fix?: string }[];
        }
      ).checks.filter((c) => c.name === 'no interrupted change');
    const [check] = found();
    expect(check).to.deep.include({ status: 'fail', fix: 'finish it (past its commit point) or undo it' });
    expect(check!.message).to.match(
      /^a pip transaction \(pip install .*alpha==2\.0\) was interrupted at pip-done$/,
    );
    const fixed = run(['check', '--fix']);
    expect(fixed.stdout).to.match(/^fixed\s+no interrupted change\s+demo/m);
    expect(found()).to.deep.equal([]);
    expect(treeDiff(envTree(), oldTree)).to.deep.equal([]);
  });

  const interrupted = () =>
    (
      JSON.parse(run(['check', '--json']).stdout) as {
        checks: { name: string; status: string; message: string; fix?: string }[];
      }
    ).checks.filter((c) => c.name === 'no interrupted change');

  it('a corrupt transaction journal, its before state intact: commands name it, check --fix puts that state back', () => {
    const killed = run(install('alpha==2.0'), { BLAST_TEST_CRASH_AT: 'transaction-pip-done' });
    expect(killed.status).to.equal(128);
    const file = transactionJournalPath(envPath, box.env);
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 20));
    const blocked = run(['history', '--env', 'demo']);
    expect(blocked.status).to.equal(1);
    expect(blocked.stderr).to.include(`The transaction journal ${file} is corrupt`);
    expect(blocked.stderr).to.include('`blast check --fix` puts the environment back');
    const [check] = interrupted();
    expect(check).to.deep.include({ status: 'fail' });
    expect(check!.fix).to.include('the state before the pip transaction, else the latest revision');
    const fixed = run(['check', '--fix']);
    expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
    expect(fixed.stdout).to.match(/^fixed\s+no interrupted change\s+demo/m);
    expect(fixed.stderr).to.include(
      'blast: demo: set the unreadable transaction.journal.json aside as transaction.journal.json.corrupt; ' +
        'put back the state before the interrupted pip transaction (its journal cannot tell whether pip finished)',
    );
    expect(interrupted()).to.deep.equal([]);
    expect(existsSync(`${file}.corrupt`)).to.equal(true);
    expect(treeDiff(envTree(), oldTree)).to.deep.equal([]);
    ok(['history', '--env', 'demo']);
    rmSync(`${file}.corrupt`);
  });

  it('a corrupt restore journal (a load killed half way): check --fix undoes the load from its transaction journal', () => {
    ok(install('alpha==2.0'));
    const killed = run(['load', '--env', 'demo', 'old'], { BLAST_TEST_CRASH_AT: 'restore-linking' });
    expect(killed.status).to.equal(128);
    const file = journalPath(envPath, box.env);
    writeFileSync(file, '{"v": 1, "op": "restore", "steps": [{"pa');
    expect(run(['load', '--env', 'demo', 'old']).stderr).to.include(`The journal ${file} is corrupt`);
    const fixed = run(['check', '--fix']);
    expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
    expect(fixed.stderr).to.match(
      /set the unreadable restore\.journal\.json aside .*; undid the interrupted load \(old\)/,
    );
    expect(interrupted()).to.deep.equal([]);
    // The latest revision is the install's: alpha 2.0, whole.
    expect(treeDiff(envTree(), newTree)).to.deep.equal([]);
    rmSync(`${file}.corrupt`);
    reset();
  });

  it('`blast start` of the environment undoes an interrupted transaction before activating it', () => {
    const killed = run(install('alpha==2.0'), { BLAST_TEST_CRASH_AT: 'transaction-pip-done' });
    expect(killed.status).to.equal(128);
    expect(existsSync(transactionJournalPath(envPath, box.env))).to.equal(true);
    const start = throughFunction(box, ['start', 'demo'], { env: pipEnv() });
    expect(start.status, start.stderr).to.equal(0);
    expect(start.stderr).to.include('blast: undone an interrupted pip transaction in demo');
    expect(start.script).to.include('VIRTUAL_ENV=');
    expect(existsSync(transactionJournalPath(envPath, box.env))).to.equal(false);
    expect(treeDiff(envTree(), oldTree)).to.deep.equal([]);
    killDaemons(box);
  });

  it('a transaction still running (its Blast alive) makes another refuse, and history only reads', () => {
    // A live process standing for the Blast that runs the transaction (its command line says pip).
    const owner = spawn('sh', ['-c', 'sleep 60; :', 'pip'], { stdio: 'ignore' });
    try {
      const file = transactionJournalPath(envPath, box.env);
      mkdirSync(dirname(file), { recursive: true });
      const journal: TransactionJournal = {
        v: 1,
        op: 'pip',
        id: 'test',
        env: envPath,
        startedAt: new Date().toISOString(),
        blastPid: owner.pid!,
        args: ['install', 'alpha==2.0'],
        phase: 'pip-running',
      };
      writeFileSync(file, JSON.stringify(journal));
      const before = envTree();
      const refused = run(install('alpha==2.0'));
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.include(`A pip transaction (Blast pid ${owner.pid}) is changing ${envPath}.`);
      expect(refused.stderr).not.to.match(/\n\s+at /);
      const history = JSON.parse(ok(['history', '--env', 'demo', '--json']).stdout) as { busy?: string };
      expect(history.busy).to.include(`Blast pid ${owner.pid}`);
      expect(run(['load', '--env', 'demo', 'old']).status).to.equal(1);
      expect(treeDiff(envTree(), before)).to.deep.equal([]);
      expect(existsSync(file)).to.equal(true);
      rmSync(file);
    } finally {
      owner.kill('SIGKILL');
    }
  });

  it('pip still running after Blast was killed: the next command refuses clearly; once pip is gone it undoes', async () => {
    // Output to a file, not pipes: pip inherits them, and waiting for pipes would wait for pip.
    const out = openSync(join(box.root, 'killed.log'), 'w');
    const killed = spawnSync(process.execPath, [BIN, ...install('alpha==2.0')], {
      env: {
        ...box.env,
        ...pipEnv(),
        BLAST_SHELL_STATE: state,
        BLAST_TEST_CRASH_AT: 'transaction-pip-running',
      },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    expect(killed.signal).to.equal('SIGKILL');
    const { pipPid } = journal();
    // Hold pip where it is, so that it certainly still runs when Blast looks.
    process.kill(pipPid!, 'SIGSTOP');
    {
      const refused = run(['load', '--env', 'demo', 'old']);
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.include(
        `pip (pid ${pipPid}) of an interrupted Blast transaction is still changing`,
      );
      expect(refused.stderr).not.to.match(/\n\s+at /);
      const check = run(['check', '--json']);
      expect(check.stdout).to.include('still changing');
      process.kill(pipPid!, 'SIGCONT');
      await waitFor('pip to exit', () => !alive(pipPid!), 60_000);
    }
    ok(['history', '--env', 'demo']);
    expect(treeDiff(envTree(), oldTree)).to.deep.equal([]);
    // The environment works through transactions again.
    ok(install('alpha==2.0'));
    expect(treeDiff(envTree(), newTree)).to.deep.equal([]);
    expect(
      execFileSync(join(envPath, 'bin', 'python'), ['-c', 'import alpha; print(alpha.__version__)'], {
        encoding: 'utf8',
      }).trim(),
    ).to.equal('2.0');
    reset();
  });
});
