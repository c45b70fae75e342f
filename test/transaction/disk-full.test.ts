/**
 * A really full disk: BLAST_HOME and the environment on a small tmpfs, filled by a pip install of a
 * wheel bigger than the room left, by a file, or both. Blast must roll back, remove pip's partial
 * files, say "disk full" (never ENOSPC, never a stack), call nothing damaged that is not, and work
 * normally once space is freed.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeState } from '../../src/lib/shell/activation.js';
import { readRegistryQuietly, registryFile, withRegistry } from '../../src/lib/envs/registry.js';
import {
  envStateDir,
  journalPath,
  snapshotsDir,
  storeDir,
  transactionBeforePath,
  transactionJournalPath,
  transactionReservePath,
} from '../../src/lib/store/index.js';
import { waitFor } from '../../plugins/daemon/test/support.js';
import { blast, sandbox, throughFunction, type Run, type Sandbox } from '../support/cli.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';
import { tree, treeDiff } from '../store/world.js';

const MiB = 1024 * 1024;

/** An orphan's zombie may linger where nothing reaps it (containers): that counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('a full disk (a real tmpfs, real CLI, real pip)', function () {
  this.timeout(300_000);
  let mnt: string | undefined;
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
  let state: string;
  let fillers = 0;

  const pipEnv = () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  const run = (args: string[]): Run => blast(box, args, { env: { ...pipEnv(), BLAST_SHELL_STATE: state } });
  const ok = (args: string[]) => {
    const r = run(args);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r;
  };
  const install = (what: string) => ['pip', '--', 'install', '--no-index', '--find-links', wheels, what];
  const free = () => {
    const s = statfsSync(mnt!);
    return s.bavail * s.bsize;
  };
  /** Take the room on the tmpfs until `leave` bytes are free (0: until a write fails). */
  const fill = (leave = 0) => {
    const fd = openSync(join(mnt!, `filler-${fillers++}`), 'w');
    const chunk = Buffer.alloc(MiB, 1);
    try {
      for (let want = free() - leave; want > 0;) want -= writeSync(fd, chunk, 0, Math.min(MiB, want));
      if (leave === 0) for (;;) writeSync(fd, chunk, 0, 4096);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
  };
  const unfill = () => {
    for (const f of readdirSync(mnt!)) if (f.startsWith('filler-')) rmSync(join(mnt!, f));
  };
  // Bytecode embeds its source's mtime: which .pyc files exist is compared, not their bytes.
  const envTree = () =>
    Object.fromEntries(
      Object.entries(tree(envPath, (rel) => rel === 'blast.json')).map(([k, v]) => [
        k,
        k.endsWith('.pyc') ? 'pyc' : v,
      ]),
    );
  /** Said plainly: no errno, no stack trace. */
  const plain = (r: Run) => {
    const out = r.stdout + r.stderr;
    expect(out).to.include('disk full');
    expect(out).not.to.match(/ENOSPC|EDQUOT|errno|no space left/i);
    expect(out).not.to.match(/\n\s+at /);
  };
  /** Nothing half-written left in the environment's state dir or the store's manifest dirs. */
  const noLeftovers = () => {
    for (const file of [
      transactionJournalPath(envPath, box.env),
      transactionBeforePath(envPath, box.env),
      transactionReservePath(envPath, box.env),
      journalPath(envPath, box.env),
      `${registryFile(box.env)}~`,
    ])
      expect(existsSync(file), file).to.equal(false);
    const dirs = [envStateDir(envPath, box.env), snapshotsDir({ root: storeDir(box.env) } as never, envPath)];
    for (const dir of dirs)
      if (existsSync(dir)) expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
  };

  before(function () {
    mnt = mkdtempSync(join(tmpdir(), 'blast-disk-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=160m', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (error) {
      rmdirSync(mnt);
      mnt = undefined;
      // Only an unprivileged run may skip: CI runs as root, where a failing mount is a failure.
      if (process.getuid?.() !== 0) this.skip();
      throw error;
    }
    box = sandbox({ BLAST_HOME: join(mnt, 'blast home') });
    const start = throughFunction(box, ['start', 'demo']);
    expect(start.status, start.stderr).to.equal(0);
    state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(start.script)![1]!;
    envPath = decodeState(state).env.path;
    expect(envPath.startsWith(mnt)).to.equal(true);
    wheels = join(box.root, 'wheels'); // not on the tmpfs: pip reads them from elsewhere
    mkdirSync(wheels);
    const python = join(envPath, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/two.py': 'TWO = 2\n' } });
    // 30 MiB that do not compress: more than the room the tests leave.
    buildWheel(python, wheels, 'huge', '1.0', { random: { 'huge/blob.bin': 30 * MiB } });
    ok(install('alpha==1.0'));
  });
  after(() => {
    box?.cleanup();
    if (mnt) {
      execFileSync('umount', ['-l', mnt]);
      rmdirSync(mnt);
    }
  });
  afterEach(() => mnt && unfill());

  it('pip filling the disk: rolled back exactly, partial files gone, no journal, "disk full" said plainly', () => {
    fill(12 * MiB);
    const before = envTree();
    const r = run(install('huge'));
    expect(r.status, r.stderr).to.not.equal(0);
    plain({
      stdout: '',
      stderr: r.stderr.replace(/^ERROR: Could not install packages due to an OSError.*$/m, ''),
      status: r.status,
    });
    expect(r.stderr).to.include('the environment was put back as it was before this pip command');
    expect(r.stderr).to.include('Free space');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    noLeftovers();
    // The room pip took is back (its partial files are gone, not kept in the store).
    expect(free()).to.be.greaterThan(11 * MiB);
    const check = ok(['check']);
    expect(check.stdout + check.stderr).not.to.match(/damaged|fail/i);
    unfill();
    ok(install('huge'));
    expect(
      execFileSync(join(envPath, 'bin', 'python'), ['-c', 'import huge; print(huge.VALUE)'], {
        encoding: 'utf8',
      }).trim(),
    ).to.equal('huge 1.0 works');
    ok(['pip', '--', 'uninstall', '-y', 'huge']);
  });

  it('less room than a rollback needs: pip does not run, nothing changed, nothing left', () => {
    fill(2 * MiB);
    const before = envTree();
    const r = run(install('huge'));
    expect(r.status).to.not.equal(0);
    plain(r);
    expect(r.stderr).to.match(
      /disk full: the 4 MiB a rollback needs could not be written at .*transaction\.reserve/,
    );
    expect(r.stderr).to.include('pip did not run and nothing changed');
    expect(r.stdout).not.to.include('Processing');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    noLeftovers();
  });

  it('killed with -9 while pip runs and the reserve is held: the next command, on a full disk, undoes it in that room', async () => {
    const before = envTree();
    const killed = blast(box, install('alpha==2.0'), {
      env: { ...pipEnv(), BLAST_SHELL_STATE: state, BLAST_TEST_CRASH_AT: 'transaction-pip-running' },
    });
    expect(killed.status, killed.stderr).to.equal(128);
    // Blast died right after starting pip, which lives on and upgrades alpha: wait for it.
    const { pipPid } = JSON.parse(readFileSync(transactionJournalPath(envPath, box.env), 'utf8')) as {
      pipPid: number;
    };
    await waitFor('the orphaned pip to exit', () => !alive(pipPid), 120_000);
    expect(existsSync(transactionReservePath(envPath, box.env))).to.equal(true);
    // Full: undoing the upgrade (a restore journal, links) has only the reserve's room to work in.
    fill();
    ok(['history', '--env', 'demo']);
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    noLeftovers();
  });

  it('check on a full disk: the registry is not "damaged", the disk is said to be full, --fix sets nothing aside', () => {
    fill();
    const check = run(['check']);
    plain(check);
    expect(check.stdout).to.match(
      /^warn +registry readable +disk full: the registry could not be written at .*registry\.db/m,
    );
    expect(check.stdout + check.stderr).not.to.match(/damaged/i);
    expect(check.status, check.stdout + check.stderr).to.equal(0);
    const fix = run(['check', '--fix']);
    expect(fix.stdout + fix.stderr).not.to.match(/damaged/i);
    expect(
      readdirSync(join(box.env.BLAST_HOME!, 'state')).filter((f) => f.includes('damaged')),
    ).to.deep.equal([]);
    noLeftovers();
    unfill();
    const after = ok(['check']);
    expect(after.stdout + after.stderr).not.to.match(/disk full|damaged/i);
  });

  it('save on a full disk: "disk full", no snapshot and no temp left; after freeing space it saves and loads', () => {
    fill();
    const r = run(['save', '--env', 'demo', 'full']);
    expect(r.status).to.not.equal(0);
    plain(r);
    expect(
      existsSync(join(snapshotsDir({ root: storeDir(box.env) } as never, envPath), 'full.json')),
    ).to.equal(false);
    noLeftovers();
    unfill();
    ok(['save', '--env', 'demo', 'full']);
    ok(['load', '--env', 'demo', 'full']);
  });

  it('a registry write on a full disk: "disk full", the registry intact and nothing left of the attempt', async () => {
    const records = (await readRegistryQuietly(box.env)).records;
    const text = readFileSync(registryFile(box.env), 'utf8');
    fill();
    const put = withRegistry(box.env, (tx) =>
      tx.put({ ...records[0]!, name: 'renamed', createdAt: new Date().toISOString() }),
    );
    const error = (await put.then(
      () => undefined,
      (e: unknown) => e,
    )) as (Error & { hint?: string }) | undefined;
    expect(error, 'the write should fail').to.be.instanceOf(Error);
    expect(error!.message).to.match(/^disk full: the registry could not be written at /);
    expect(error!.hint).to.include('Free space');
    expect(readFileSync(registryFile(box.env), 'utf8')).to.equal(text);
    noLeftovers();
    // Through the CLI: a new environment on a full disk.
    const start = run(['start', 'other']);
    expect(start.status).to.not.equal(0);
    plain(start);
    unfill();
    expect((await readRegistryQuietly(box.env)).records).to.deep.equal(records);
    ok(['check']);
  });
});
