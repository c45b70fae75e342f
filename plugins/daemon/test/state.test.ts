/**
 * What the daemon records and how it recovers, through the real CLI: pip-like changes in
 * site-packages become history; kill -9 leaves a stale daemon that `blast check` reports and
 * `blast check --fix` / `blast start` replace, with the history intact; `blast clean` removes a dead
 * daemon's leftovers; `blast list --json` shows the daemon's figures.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, readPidFile, request } from '../src/client.js';
import type { ChangeRecord } from '../src/daemon/store.js';
import {
  blast,
  daemonBox,
  daemonProcesses,
  install,
  killDaemons,
  pathsOf,
  shellStart,
  sitePackages,
  status,
  uninstall,
  waitFor,
  type Box,
  type Shell,
} from './support.js';
import type { Status } from '../src/control.js';

/** The daemon's resident memory as the kernel reports it, in MiB. */
function vmRssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

const cpuOf = (s: Status) => (s.cpu.userMs + s.cpu.systemMs) / 1000;

interface CheckJson {
  checks: Array<{
    source: string;
    name: string;
    status: string;
    message: string;
    env?: string;
    repaired?: boolean;
  }>;
}

describe('daemon state, history and recovery (real CLI, real processes)', function () {
  this.timeout(200_000);
  let box: Box;
  let shell: Shell;
  let envPath: string;

  beforeEach(async () => {
    box = daemonBox();
    shell = await shellStart(box, 'demo');
    await shell.read('ready');
    expect(await shell.read('start.rc'), await shell.read('start.err')).to.equal('0\n');
    envPath = join(box.blastHome, 'envs', 'demo');
  });
  afterEach(() => {
    shell.stop();
    killDaemons(box);
    box.cleanup();
  });

  const history = async () =>
    (
      await request<{ changes: ChangeRecord[] }>(
        pathsOf(box, 'demo').socket,
        'history',
        { env: pathsOf(box, 'demo').envPath },
        3000,
      )
    ).changes;

  it('records pip-like changes (added, upgraded, removed) as settled history', async () => {
    const paths = pathsOf(box, 'demo');
    const before = await waitFor('daemon', () => status(paths));
    const site = sitePackages(envPath);
    install(site, 'foo', '1.0');
    const added = await waitFor('foo added', async () => {
      const [last] = await history();
      return last?.added.some((a) => a.name === 'foo') ? last : undefined;
    });
    expect(added.added).to.deep.equal([{ name: 'foo', version: '1.0' }]);
    // An upgrade the way pip does it: the old dist-info goes, the new one comes, in one burst.
    uninstall(site, 'foo', '1.0');
    install(site, 'foo', '2.0');
    const upgraded = await waitFor('foo upgraded', async () => {
      const [last] = await history();
      return last && last.seq > added.seq ? last : undefined;
    });
    expect(upgraded.upgraded).to.deep.equal([{ name: 'foo', from: '1.0', to: '2.0' }]);
    expect(upgraded.added).to.deep.equal([]);
    uninstall(site, 'foo', '2.0');
    const removed = await waitFor('foo removed', async () => {
      const [last] = await history();
      return last && last.seq > upgraded.seq ? last : undefined;
    });
    expect(removed.removed).to.deep.equal([{ name: 'foo', version: '2.0' }]);
    const after = await status(paths);
    expect(after.packages).to.equal(before.packages);
    expect(after.changes).to.equal(3);
    expect(after.lastChange).to.equal(removed.time);
  });

  it('kill -9: check reports stale, check --fix starts a fresh daemon for the live shell, history intact', async () => {
    const paths = pathsOf(box, 'demo');
    await waitFor('daemon', () => status(paths));
    install(sitePackages(envPath), 'bar', '0.1');
    await waitFor('bar recorded', async () =>
      (await history())[0]?.added[0]?.name === 'bar' ? true : undefined,
    );
    const old = await status(paths);
    process.kill(old.pid, 'SIGKILL');
    await waitFor('dead', () => !alive(old.pid));

    const checked = blast(box, ['check', '--json']);
    const stale = (JSON.parse(checked.stdout) as CheckJson).checks.find((c) => c.name === 'daemon');
    expect(stale, checked.stdout).to.include({ status: 'fail', env: 'demo' });
    expect(stale!.message).to.match(/stale: daemon pid \d+ is dead/);
    expect(stale!.message).to.include(`shell(s) ${shell.pid} still active`);
    expect(checked.status).to.not.equal(0);
    const listed = JSON.parse(blast(box, ['list', '--json', '--no-size']).stdout) as Array<{
      plugins: Record<string, Record<string, unknown>>;
    }>;
    expect(listed[0]!.plugins['@blast/daemon']).to.deep.include({ daemon: 'stale', pid: old.pid });

    const fixed = blast(box, ['check', '--fix', '--json']);
    expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
    expect((JSON.parse(fixed.stdout) as CheckJson).checks.find((c) => c.name === 'daemon')).to.include({
      repaired: true,
    });
    const fresh = await waitFor('fresh daemon', () => status(paths));
    expect(fresh.pid).to.not.equal(old.pid);
    expect(fresh.attached).to.deep.equal([shell.pid]);
    const [last] = await history();
    expect(last!.added).to.deep.equal([{ name: 'bar', version: '0.1' }]);
    expect(blast(box, ['check', '--json']).status).to.equal(0);
  });

  it('kill -9: the next blast start replaces the stale daemon; changes made meanwhile are recorded', async () => {
    const paths = pathsOf(box, 'demo');
    const old = await waitFor('daemon', () => status(paths));
    process.kill(old.pid, 'SIGKILL');
    await waitFor('dead', () => !alive(old.pid));
    expect(existsSync(paths.socket)).to.equal(true); // the stale socket
    install(sitePackages(envPath), 'offline', '3.0'); // while no daemon watches

    const again = await shellStart(box, 'demo');
    try {
      await again.read('ready');
      expect(await again.read('start.rc'), await again.read('start.err')).to.equal('0\n');
      const fresh = await waitFor('fresh daemon', () => status(paths));
      expect(fresh.pid).to.not.equal(old.pid);
      // The new shell, and the first one (recorded as attached by the dead daemon), are attached.
      expect(fresh.attached).to.have.members([shell.pid, again.pid]);
      const [last] = await history();
      expect(last).to.deep.include({ offline: true, added: [{ name: 'offline', version: '3.0' }] });
    } finally {
      again.stop();
    }
  });

  it('kill -9, then 10 concurrent starts: one fresh daemon replaces the stale one, every shell attached', async () => {
    const paths = pathsOf(box, 'demo');
    const old = await waitFor('daemon', () => status(paths));
    process.kill(old.pid, 'SIGKILL');
    await waitFor('dead', () => !alive(old.pid));
    const more = await Promise.all(Array.from({ length: 10 }, () => shellStart(box, 'demo')));
    try {
      for (const s of more) {
        await s.read('ready');
        expect(await s.read('start.rc'), await s.read('start.err')).to.equal('0\n');
      }
      const fresh = await waitFor('11 attached', async () => {
        const s = await status(paths);
        return s.attached.length === 11 ? s : undefined;
      });
      expect(fresh.attached).to.have.members([shell.pid, ...more.map((s) => s.pid)]);
      await waitFor('one daemon process', () => daemonProcesses(box).length === 1, 10_000);
      expect(daemonProcesses(box)).to.deep.equal([fresh.pid]);
    } finally {
      for (const s of more) s.stop();
    }
  });

  it('clean removes what a dead daemon left behind (and nothing of a live one)', async () => {
    const paths = pathsOf(box, 'demo');
    const old = await waitFor('daemon', () => status(paths));
    expect(blast(box, ['clean', '--dry-run', '--json']).stdout).not.to.include(paths.socket);
    shell.stop();
    process.kill(old.pid, 'SIGKILL');
    await waitFor('dead', () => !alive(old.pid));
    const dry = blast(box, ['clean', '--dry-run']);
    expect(dry.stdout).to.include(`would remove ${paths.socket}`);
    expect(dry.stdout).to.include(`would remove ${paths.pidFile}`);
    expect(existsSync(paths.socket)).to.equal(true);
    const wet = blast(box, ['clean']);
    expect(wet.status, wet.stderr).to.equal(0);
    expect(existsSync(paths.socket)).to.equal(false);
    expect(existsSync(paths.pidFile)).to.equal(false);
    const listed = JSON.parse(blast(box, ['list', '--json', '--no-size']).stdout) as Array<{
      plugins: Record<string, Record<string, unknown>>;
    }>;
    expect(listed[0]!.plugins['@blast/daemon']).to.deep.include({ daemon: 'stopped', pid: null });
  });

  it('list shows the daemon running with its pid, shells, memory (MiB), CPU (s) and package count; --json as numbers', async () => {
    const paths = pathsOf(box, 'demo');
    const before = await waitFor('daemon', () => status(paths));
    const run = blast(box, ['list', '--json', '--no-size']);
    const text = blast(box, ['list', '--no-size']);
    const after = await status(paths);
    expect(run.status, run.stderr).to.equal(0);
    const [entry] = JSON.parse(run.stdout) as Array<{ plugins: Record<string, Record<string, unknown>> }>;
    const fields = entry!.plugins['@blast/daemon']!;
    expect(Object.keys(fields)).to.deep.equal([
      'daemon',
      'pid',
      'shells',
      'memoryMiB',
      'cpuSeconds',
      'packages',
    ]);
    expect(fields).to.include({ daemon: 'running', pid: before.pid, shells: 1, packages: before.packages });
    // MiB with one decimal, near what the kernel says the daemon holds (not bytes, not KiB).
    const memory = fields.memoryMiB as number;
    expect(memory).to.be.a('number');
    expect(Number(memory.toFixed(1))).to.equal(memory);
    expect(Math.abs(memory - vmRssMiB(before.pid))).to.be.lessThan(8);
    // CPU seconds with two decimals, between the daemon's own figures before and after (CPU time only grows).
    const cpu = fields.cpuSeconds as number;
    expect(cpu).to.be.a('number').greaterThan(0);
    expect(Number(cpu.toFixed(2))).to.equal(cpu);
    expect(cpu).to.be.within(cpuOf(before) - 0.01, cpuOf(after) + 0.01);
    expect(text.stdout).to.match(
      new RegExp(
        `daemon=running pid=${before.pid} shells=1 memoryMiB=\\d+(\\.\\d)? cpuSeconds=\\d+(\\.\\d{1,2})? packages=${before.packages}`,
      ),
    );
  });

  it('check shows the running daemon: pid, shells, MiB, CPU seconds, packages', async () => {
    const paths = pathsOf(box, 'demo');
    const before = await waitFor('daemon', () => status(paths));
    const checked = blast(box, ['check', '--json']);
    const after = await status(paths);
    const entry = (JSON.parse(checked.stdout) as CheckJson).checks.find((c) => c.name === 'daemon');
    expect(entry, checked.stdout).to.include({ status: 'ok', env: 'demo' });
    const m =
      /^running, pid (\d+), (\d+) shell\(s\), (\d+\.\d) MiB, CPU (\d+\.\d\d) s, (\d+) package\(s\)$/.exec(
        entry!.message,
      );
    expect(m, entry!.message).to.not.equal(null);
    expect(Number(m![1])).to.equal(before.pid);
    expect(Number(m![2])).to.equal(1);
    expect(Math.abs(Number(m![3]) - vmRssMiB(before.pid))).to.be.lessThan(8);
    expect(Number(m![4])).to.be.greaterThan(0);
    expect(Number(m![4])).to.be.within(cpuOf(before) - 0.01, cpuOf(after) + 0.01);
    expect(Number(m![5])).to.equal(before.packages);
  });

  // Per-user daemon: the killed daemon's files go, and a fresh daemon serves the shell that is still
  // active (it used to stay stopped, its files gone, until the next start).
  it('kill --force SIGKILLs the daemon; a fresh one serves the other active shell, not the killing one', async () => {
    const paths = pathsOf(box, 'demo');
    const s = await waitFor('daemon', () => status(paths));
    const activation = join(box.root, 'start-script');
    writeFileSync(activation, '');
    const start = blast(box, ['start', 'demo'], {
      env: { BLAST_SHELL: 'bash', BLAST_SHELL_SCRIPT: activation, BLAST_SHELL_PID: String(process.pid) },
    });
    expect(start.status, start.stderr).to.equal(0);
    const saved = /BLAST_SHELL_STATE='([^']*)'/.exec(readFileSync(activation, 'utf8'))![1]!;
    const file = join(box.root, 'kill-script');
    writeFileSync(file, '');
    const killed = blast(box, ['kill', '--force'], {
      env: {
        BLAST_SHELL: 'bash',
        BLAST_SHELL_SCRIPT: file,
        BLAST_SHELL_PID: String(process.pid),
        BLAST_SHELL_STATE: saved,
        VIRTUAL_ENV: envPath,
      },
    });
    expect(killed.status, killed.stderr).to.equal(0);
    await waitFor('daemon killed', () => !alive(s.pid), 5000);
    const fresh = await waitFor('a fresh daemon', async () => {
      const now = await status(paths);
      return now.pid !== s.pid ? now : undefined;
    });
    expect(fresh.attached).to.deep.equal([shell.pid]);
    expect(readPidFile(paths.pidFile)?.pid).to.equal(fresh.pid);
  });
});
