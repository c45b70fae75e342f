/**
 * What the daemon watches, measures and keeps, through the real CLI and real processes: bin/ is
 * watched, a burst of changes is one settled change, its CPU figure is the kernel's, its final
 * state is persisted when it stops (last shell gone, or a `shutdown` request), a change it
 * acknowledged survives kill -9, and without XDG_RUNTIME_DIR it lives in a per-user temp dir.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { living, request } from '../src/client.js';
import type { ChangeRecord } from '../src/daemon/store.js';
import { REPO } from '../../../test/support/cli.js';
import {
  blast,
  daemonBox,
  install,
  killDaemons,
  pathsOf,
  readDb,
  sitePackages,
  shellStart,
  startedShell,
  status,
  waitFor,
  type Box,
  type Shell,
} from './support.js';

const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a process from /proc/<pid>/stat, in ms (read from outside the daemon). */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
}

describe('daemon monitoring and state (real CLI, real processes)', function () {
  this.timeout(200_000);
  let box: Box;
  let shells: Shell[];

  afterEach(() => {
    for (const s of shells) s.stop();
    killDaemons(box);
    box.cleanup();
  });

  const setUp = (extra: Record<string, string> = {}) => {
    box = daemonBox(extra);
    shells = [];
  };

  const open = (env = 'demo') => startedShell(box, shells, env);

  const history = async () =>
    (
      await request<{ changes: ChangeRecord[] }>(
        pathsOf(box, 'demo').socket,
        'history',
        { env: pathsOf(box, 'demo').envPath },
        3000,
      )
    ).changes;

  describe('debouncing', () => {
    // A long quiet time, so that the pauses in the burst below are far shorter than it.
    beforeEach(() => setUp({ BLAST_DAEMON_DEBOUNCE_MS: '2000' }));

    it('a burst of changes (five distributions, one every 100 ms) is one recorded change', async () => {
      await open();
      const paths = pathsOf(box, 'demo');
      const before = await waitFor('daemon', () => status(paths));
      const site = sitePackages(join(box.blastHome, 'envs', 'demo'));
      const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
      for (const name of names) {
        install(site, name, '1.0');
        await sleep(100);
      }
      const [change] = await waitFor('the change', async () => {
        const changes = await history();
        return changes.length > before.changes ? changes : undefined;
      });
      expect(change!.seq).to.equal(before.changes + 1);
      expect(change!.added.map((a) => a.name)).to.have.members(names);
      expect((await status(paths)).changes).to.equal(before.changes + 1);
    });
  });

  describe('figures and final state', () => {
    beforeEach(() => setUp());

    it('reports its own CPU time, the same the kernel counts for it', async () => {
      await open();
      const paths = pathsOf(box, 'demo');
      const { pid } = await waitFor('daemon', () => status(paths));
      // Some work for it: status requests.
      for (let i = 0; i < 200; i++) await status(paths);
      const kernelBefore = procCpuMs(pid);
      const s = await status(paths);
      const kernelAfter = procCpuMs(pid);
      const own = s.cpu.userMs + s.cpu.systemMs;
      expect(own).to.be.greaterThan(0);
      // The kernel counts in clock ticks (10 ms): allow two either side.
      expect(own).to.be.within(kernelBefore - 20, kernelAfter + 20);
    });

    it('persists its final state when the last shell detaches (meta record in state.db)', async () => {
      const shell = await open();
      const paths = pathsOf(box, 'demo');
      const last = await waitFor('daemon', () => status(paths));
      const since = new Date().toISOString();
      shell.signal('go-kill');
      await shell.read('done');
      await waitFor('daemon exit', () => !living(last.pid), 15_000);
      const meta = readDb(paths).get('meta');
      expect(meta, 'meta record').to.not.equal(undefined);
      expect(meta).to.include({ why: 'the last shell detached', pid: last.pid, packages: last.packages });
      expect(meta!.lastExit as string).to.be.a('string');
      expect((meta!.lastExit as string) >= since).to.equal(true);
      expect(meta!.attached).to.deep.equal([]);
      expect(readDb(paths).get('current')).to.not.equal(undefined);
    });

    it('shutdown: replies, exits, removes its socket and pid file, and persists its final state', async () => {
      const shell = await open();
      const paths = pathsOf(box, 'demo');
      const s = await waitFor('daemon', () => status(paths));
      expect(await request(paths.socket, 'shutdown', {}, 3000)).to.deep.equal({ stopping: true });
      await waitFor('daemon exit', () => !living(s.pid), 15_000);
      expect(existsSync(paths.socket)).to.equal(false);
      expect(existsSync(paths.pidFile)).to.equal(false);
      expect(readDb(paths).get('meta')).to.include({ why: 'asked to', pid: s.pid });
      expect(living(shell.pid)).to.equal(true); // shutting down the daemon does not touch the shell
    });

    it('kill -9 right after it acknowledged a change: the change is on disk, and the next daemon does not take it for an offline one', async () => {
      const shell = await open();
      const paths = pathsOf(box, 'demo');
      const site = sitePackages(join(box.blastHome, 'envs', 'demo'));
      for (const [round, name] of ['one', 'two', 'three'].entries()) {
        const daemon = await waitFor(`daemon (round ${round})`, () => status(paths));
        install(site, name, '1.0');
        // Acknowledged: the daemon reports it (history waits for the recording in progress).
        await waitFor(`${name} acknowledged`, async () =>
          (await history()).some((c) => c.added.some((a) => a.name === name)) ? true : undefined,
        );
        process.kill(daemon.pid, 'SIGKILL');
        await waitFor('dead', () => !living(daemon.pid));
        // On disk as the daemon left it: the change record and the current package set.
        const docs = [...readDb(paths).values()];
        expect(
          docs.some((d) => (d.added as Array<{ name: string }> | undefined)?.some((a) => a.name === name)),
        ).to.equal(true);
        const current = new Map(readDb(paths).get('current')!.packages as Array<[string, string]>);
        expect(current.get(name)).to.equal('1.0');
        // A fresh daemon for the still active shell.
        const fixed = blast(box, ['check', '--fix']);
        expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
      }
      const fresh = await waitFor('last daemon', () => status(paths));
      expect(fresh.attached).to.deep.equal([shell.pid]);
      const changes = await history();
      // Nothing was lost and found again at start-up: no change was recorded as made offline.
      expect(changes.filter((c) => c.offline)).to.deep.equal([]);
      expect(changes.flatMap((c) => c.added.map((a) => a.name))).to.include.members(['one', 'two', 'three']);
    });
  });

  describe('a crash in the middle of a burst', () => {
    // Settle fast, so the daemon is writing while the burst goes on; no `blast record` meanwhile.
    beforeEach(() => setUp({ BLAST_DAEMON_DEBOUNCE_MS: '20', BLAST_DAEMON_RECORD_QUIET_MS: '600000' }));

    it('kill -9 while it records a burst of changes: every change it had acknowledged is kept, the database loads', async () => {
      const shell = await open();
      const paths = pathsOf(box, 'demo');
      const site = sitePackages(join(box.blastHome, 'envs', 'demo'));
      const { pid } = await waitFor('daemon', () => status(paths));
      let acknowledged = 0;
      for (let i = 0; i < 30; i++) {
        install(site, `storm${i}`, '1.0');
        await sleep(30);
        if (i === 20) {
          // Acknowledged: status counts a change once it is written and compacted.
          acknowledged = (await status(paths)).changes;
          install(site, 'unacknowledged', '1.0');
          process.kill(pid, 'SIGKILL');
          break;
        }
      }
      await waitFor('dead', () => !living(pid));
      expect(acknowledged).to.be.greaterThan(0);
      const seqs = [...readDb(paths).values()].map((d) => d.seq).filter((n) => typeof n === 'number');
      for (let seq = 1; seq <= acknowledged; seq++) expect(seqs, `change ${seq} on disk`).to.include(seq);

      const fixed = blast(box, ['check', '--fix', '--json']);
      expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
      const fresh = await waitFor('fresh daemon', () => status(paths));
      expect(fresh.attached).to.deep.equal([shell.pid]);
      // It loaded the database: it knows every change, and what was not recorded it found on disk.
      const changes = await history();
      for (let seq = 1; seq <= acknowledged; seq++) expect(changes.map((c) => c.seq)).to.include(seq);
      const installed = readdirSync(site).filter((n) => n.endsWith('.dist-info')).length;
      expect(fresh.packages).to.equal(installed);
      const checked = JSON.parse(blast(box, ['check', '--json']).stdout) as {
        checks: Array<{ name: string; status: string }>;
      };
      expect(checked.checks.find((c) => c.name === 'daemon state database')).to.include({ status: 'ok' });
    });
  });

  describe('runtime dir without XDG_RUNTIME_DIR', () => {
    let tmp: string;
    beforeEach(() => {
      setUp();
      delete box.env.XDG_RUNTIME_DIR;
      tmp = join(box.root, 'tmp');
      mkdirSync(tmp);
      box.env.TMPDIR = tmp;
    });

    const uid = process.getuid!();

    it('falls back to a per-user temp dir (0700, socket 0600), the same dir the core computes', async () => {
      const shell = await open();
      const paths = pathsOf(box, 'demo');
      expect(paths.runDir).to.equal(join(tmp, `blast-${uid}`));
      expect(await shell.read('socket')).to.equal(paths.socket);
      const s = await waitFor('daemon', () => status(paths));
      expect(s.attached).to.deep.equal([shell.pid]);
      expect(statSync(paths.runDir).mode & 0o777).to.equal(0o700);
      expect(statSync(paths.socket).mode & 0o777).to.equal(0o600);
      // The core's runtimeDir() (src/lib/paths.ts, built) agrees with the plugin's copy of the rule.
      const core = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(join(REPO, 'dist', 'lib', 'paths.js'))}); console.log(m.runtimeDir(process.env));`,
        ],
        { env: box.env, encoding: 'utf8' },
      );
      expect(core.stdout.trim(), core.stderr).to.equal(dirname(paths.socket));
    });

    it('refuses a per-user temp dir that others may enter: blast start says why, and no daemon starts', async () => {
      const dir = join(tmp, `blast-${uid}`);
      mkdirSync(dir);
      chmodSync(dir, 0o755); // as another user could have made it, in a shared /tmp
      const shell = await shellStart(box, 'demo');
      shells.push(shell);
      await shell.read('ready');
      expect(await shell.read('start.rc')).not.to.equal('0\n');
      const err = await shell.read('start.err');
      expect(err).to.include(`${dir} is open to other users (mode 755)`);
      expect(err).to.include(`chmod 700 ${dir}`);
      expect(existsSync(pathsOf(box, 'demo').socket)).to.equal(false);
    });
  });
});
