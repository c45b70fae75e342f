import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlastError } from '../../src/lib/cli/errors.js';
import { alive } from '../../src/lib/fs/alive.js';
import { inspectLock, startTime, withLock, withLockAsync } from '../../src/lib/fs/lock.js';
import { REPO } from '../support/cli.js';

async function waitFor(what: string, cond: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function hammer(mode: 'count' | 'hold', lock: string, dir: string, n = 0): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'test/support/lock-hammer.ts'), mode, lock, dir, String(n)],
    { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] },
  );
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode);
    else child.on('exit', (code) => done(code));
  });

/** The pid of a process that has exited: no process has it (until the kernel reuses it). */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('the lock primitive (lib/fs/lock.ts)', () => {
  let dir: string;
  let lock: string;
  const opts = { what: 'the test', waitMs: 2000 };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'blast lock '));
    lock = join(dir, 'x.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('8 processes × 50 increments, while 3 holders are killed with -9 mid-hold: exact count, never two holders', async () => {
    writeFileSync(join(dir, 'counter'), '0');
    const victims = [0, 1, 2].map(() => hammer('hold', lock, dir));
    const counters = Array.from({ length: 8 }, () => hammer('count', lock, dir, 50));
    const killed = new Set<number>();
    const codes = Promise.all(counters.map(exited));
    // Each victim gets the lock at some point among the counters; it is killed as soon as it holds it.
    await waitFor(
      'every victim to hold the lock once',
      () => {
        for (const v of victims)
          if (!killed.has(v.pid!) && existsSync(join(dir, `holding-${v.pid}`))) {
            v.kill('SIGKILL');
            killed.add(v.pid!);
          }
        return killed.size === victims.length;
      },
      240_000,
    );
    expect(await codes).to.deep.equal(Array(8).fill(0));
    expect(existsSync(join(dir, 'overlaps')), 'two holders at once').to.equal(false);
    expect(readFileSync(join(dir, 'counter'), 'utf8')).to.equal('400');
    // Nothing left: no lock, no temp file, no claim.
    const left = readdirSync(dir).filter((f) => f.startsWith('x.lock'));
    expect(left).to.deep.equal([]);
  });

  it('takes over an empty lock file, a dead pid, a reused pid and an unreadable one at once', () => {
    const cases = [
      '',
      `${deadPid()}\n`,
      `{"v":1,"pid":${deadPid()},"what":"blast load sA","token":"a1"}`,
      // A live pid (this test's parent) with another start time: the pid was reused.
      `{"v":1,"pid":${process.ppid},"start":"1","what":"blast load sA","token":"b2"}`,
      'garbage',
    ];
    for (const text of cases) {
      writeFileSync(lock, text);
      const started = Date.now();
      expect(withLock(lock, () => 'ran', { ...opts, waitMs: 60_000 })).to.equal('ran');
      // Taken over on the first look, not after a wait out (the wait would be 60 s).
      expect(Date.now() - started).to.be.lessThan(30_000);
      expect(existsSync(lock)).to.equal(false);
    }
  });

  it('a live owner is waited for, then refused naming its pid and what it does', async () => {
    const holder = hammer('hold', lock, dir);
    try {
      await waitFor('the holder', () => existsSync(join(dir, `holding-${holder.pid}`)));
      const owner = inspectLock(lock)!;
      expect(owner.alive).to.equal(true);
      expect(owner.owner?.pid).to.equal(holder.pid);
      expect(owner.owner?.start).to.equal(startTime(holder.pid!));
      let caught: unknown;
      try {
        await withLockAsync(lock, async () => 'ran', { what: 'the test', waitMs: 200 });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(BlastError);
      expect((caught as BlastError).message).to.include(`pid ${holder.pid} (hammer hold`);
      expect((caught as BlastError).hint).to.include(`kill ${holder.pid}`);
    } finally {
      holder.kill('SIGKILL');
    }
    await waitFor('the holder to die', () => !alive(holder.pid!));
    expect(withLock(lock, () => 'ran', opts)).to.equal('ran');
  });
});
