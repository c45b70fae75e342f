/**
 * Recovery from daemons that are not simply dead, through the real CLI and real processes:
 * `kill --force` (the killing shell must not come back attached), a hung daemon (SIGSTOP: alive but
 * silent — check --fix kills it before anything replaces it, clean leaves it alone, start takes it
 * over) and a zombie daemon (dead, not yet reaped: its files are leftovers).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { living, processState, readPidFile, request } from '../src/client.js';
import { recordedAttached } from '../src/control.js';
import type { ChangeRecord } from '../src/daemon/store.js';
import {
  bareEnv,
  blast,
  daemonArgs,
  daemonBox,
  daemonPaths,
  daemonProcesses,
  install,
  killDaemons,
  pathsOf,
  sitePackages,
  startedShell,
  status,
  waitFor,
  type Box,
  type Shell,
} from './support.js';

interface CheckJson {
  checks: Array<{ name: string; status: string; message: string; fix?: string; repaired?: boolean }>;
}

describe('daemon recovery: kill --force, hung and zombie daemons (real CLI, real processes)', function () {
  this.timeout(200_000);
  let box: Box;
  let shells: Shell[];
  let others: ChildProcess[];
  let stopped: number[];

  beforeEach(() => {
    box = daemonBox();
    shells = [];
    others = [];
    stopped = [];
  });
  afterEach(() => {
    for (const pid of stopped) if (living(pid)) process.kill(pid, 'SIGKILL');
    for (const s of shells) s.stop();
    for (const p of others) p.kill('SIGKILL');
    killDaemons(box);
    box.cleanup();
  });

  const open = (env = 'demo') => startedShell(box, shells, env);

  /** SIGSTOP the daemon, and wait until its pid file is old enough not to pass for a starting one. */
  const hang = async (pid: number) => {
    process.kill(pid, 'SIGSTOP');
    stopped.push(pid);
    await waitFor('the pid file to age', () => readPidFile(pathsOf(box, 'demo').pidFile)!.ageMs > 3500);
    expect(processState(pid)).to.equal('T');
  };

  const history = async () =>
    (
      await request<{ changes: ChangeRecord[] }>(
        pathsOf(box, 'demo').socket,
        'history',
        { env: pathsOf(box, 'demo').envPath },
        3000,
      )
    ).changes;

  it('kill --force: the next daemon re-attaches the other active shells, not the one that force-killed', async () => {
    const other = await open();
    const paths = pathsOf(box, 'demo');
    const envPath = join(box.blastHome, 'envs', 'demo');
    await waitFor('daemon', () => status(paths));
    // This test process is the second shell: `blast start` through the shell-function protocol.
    const script = join(box.root, 'start-script');
    writeFileSync(script, '');
    const start = blast(box, ['start', 'demo'], {
      env: { BLAST_SHELL: 'bash', BLAST_SHELL_SCRIPT: script, BLAST_SHELL_PID: String(process.pid) },
    });
    expect(start.status, start.stderr).to.equal(0);
    const first = await waitFor('both attached', async () => {
      const s = await status(paths);
      return s.attached.length === 2 ? s : undefined;
    });
    expect(first.attached).to.have.members([other.pid, process.pid]);

    const saved = /BLAST_SHELL_STATE='([^']*)'/.exec(readFileSync(script, 'utf8'))![1]!;
    writeFileSync(script, '');
    const killed = blast(box, ['kill', '--force'], {
      env: {
        BLAST_SHELL: 'bash',
        BLAST_SHELL_SCRIPT: script,
        BLAST_SHELL_PID: String(process.pid),
        BLAST_SHELL_STATE: saved,
        VIRTUAL_ENV: envPath,
      },
    });
    expect(killed.status, killed.stderr).to.equal(0);
    expect(living(first.pid)).to.equal(false); // kill --force waits for it to be gone
    // The other shell's activation stays; this one's is over.
    expect(recordedAttached(paths)).to.deep.equal([other.pid]);
    // Per-user daemon: it served other shells too, so a fresh one serves them at once (it used to
    // be this environment's own daemon, left stopped until the next start).
    const respawned = await waitFor('a fresh daemon for the other shell', async () => {
      const s = await status(paths);
      return s.pid !== first.pid ? s : undefined;
    });
    expect(respawned.attached).to.deep.equal([other.pid]);

    // Another shell starts the environment: the same fresh daemon, with the other shell and itself only.
    const third = await open();
    const fresh = await waitFor('fresh daemon with two shells', async () => {
      const s = await status(paths);
      return s.pid !== first.pid && s.attached.length >= 2 ? s : undefined;
    });
    expect(fresh.pid).to.equal(respawned.pid);
    expect(fresh.attached).to.have.members([other.pid, third.pid]);
    expect(daemonProcesses(box)).to.deep.equal([fresh.pid]);
  });

  it('a hung daemon (SIGSTOP): check reports it, check --fix kills it before starting one fresh daemon', async () => {
    const shell = await open();
    const paths = pathsOf(box, 'demo');
    const envPath = join(box.blastHome, 'envs', 'demo');
    const old = await waitFor('daemon', () => status(paths));
    install(sitePackages(envPath), 'kept', '1.0');
    await waitFor('kept recorded', async () =>
      (await history())[0]?.added[0]?.name === 'kept' ? true : undefined,
    );
    await hang(old.pid);

    const checked = blast(box, ['check', '--json']);
    expect(checked.status).to.not.equal(0);
    const stale = (JSON.parse(checked.stdout) as CheckJson).checks.find((c) => c.name === 'daemon');
    expect(stale, checked.stdout).to.include({ status: 'fail' });
    expect(stale!.message).to.include(`stale: pid ${old.pid} does not answer on the socket (it is stopped)`);
    expect(stale!.fix).to.include(`kill the hung daemon (SIGKILL pid ${old.pid})`);
    expect(living(old.pid), 'check alone kills nothing').to.equal(true);

    const fixed = blast(box, ['check', '--fix', '--json']);
    expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
    expect((JSON.parse(fixed.stdout) as CheckJson).checks.find((c) => c.name === 'daemon')).to.include({
      repaired: true,
    });
    // Gone by the time --fix returns: it can never write the state database next to the fresh one.
    expect(living(old.pid)).to.equal(false);
    const fresh = await waitFor('fresh daemon', () => status(paths));
    expect(fresh.pid).to.not.equal(old.pid);
    expect(fresh.attached).to.deep.equal([shell.pid]);
    expect(daemonProcesses(box)).to.deep.equal([fresh.pid]);
    expect((await history())[0]!.added).to.deep.equal([{ name: 'kept', version: '1.0' }]);
  });

  it('a directory at the socket path fails check, with or without shells; --fix removes it and a daemon serves again', async () => {
    const shell = await open();
    const paths = pathsOf(box, 'demo');
    const old = await waitFor('daemon', () => status(paths));
    const block = () => {
      rmSync(paths.socket, { force: true });
      mkdirSync(paths.socket);
      writeFileSync(join(paths.socket, 'inside'), '');
    };
    const daemonCheck = (args: string[] = []) => {
      const run = blast(box, ['check', '--json', ...args]);
      const found = (JSON.parse(run.stdout) as CheckJson).checks.find((c) => c.name === 'daemon');
      return { status: run.status, check: found! };
    };
    process.kill(old.pid, 'SIGKILL');
    await waitFor('the daemon gone', () => !living(old.pid));
    block();
    const sick = daemonCheck();
    expect(sick.status).to.equal(5);
    expect(sick.check).to.include({ status: 'fail' });
    expect(sick.check.message).to.include(`${paths.socket} is a directory, not a socket`);
    const fixed = daemonCheck(['--fix']);
    expect(fixed.status, JSON.stringify(fixed.check)).to.equal(0);
    expect(fixed.check).to.include({ repaired: true });
    const fresh = await waitFor('a fresh daemon', () => status(paths));
    expect(fresh.attached).to.deep.equal([shell.pid]);

    // No shell left: nothing would start a daemon, but the next start's would die on it all the same.
    shell.stop();
    await waitFor(
      'the daemon to exit',
      () => daemonProcesses(box).length === 0 && !existsSync(paths.pidFile),
      30_000,
    );
    block();
    const idle = daemonCheck();
    expect(idle.status).to.equal(5);
    expect(idle.check).to.include({ status: 'fail' });
    expect(daemonCheck(['--fix']).check).to.include({ repaired: true });
    expect(existsSync(paths.socket)).to.equal(false);
    expect(daemonCheck()).to.deep.include({ status: 0 });
  });

  it('a hung daemon (SIGSTOP): the next blast start kills it and takes over, the shells attached', async () => {
    const shell = await open();
    const paths = pathsOf(box, 'demo');
    const old = await waitFor('daemon', () => status(paths));
    await hang(old.pid);
    const again = await open();
    const fresh = await waitFor(
      'a fresh daemon',
      async () => {
        const s = await status(paths);
        return s.pid !== old.pid ? s : undefined;
      },
      30_000,
    );
    expect(living(old.pid)).to.equal(false);
    expect(fresh.attached).to.have.members([shell.pid, again.pid]);
    expect(daemonProcesses(box)).to.deep.equal([fresh.pid]);
  });

  it('clean leaves a hung daemon (SIGSTOP) alone and says so; it answers again once continued', async () => {
    await open();
    const paths = pathsOf(box, 'demo');
    const old = await waitFor('daemon', () => status(paths));
    await hang(old.pid);
    const cleaned = blast(box, ['clean']);
    expect(cleaned.status, cleaned.stderr).to.equal(0);
    expect(cleaned.stdout).not.to.include(paths.socket);
    expect(cleaned.stdout).not.to.include(paths.pidFile);
    // oclif wraps warnings to the terminal's width, each line behind a ›.
    const warning = cleaned.stderr
      .split('\n')
      .map((l) => l.replace(/^\s*›\s*/, ''))
      .join(' ')
      .replace(/\s+/g, ' ');
    expect(warning).to.include(`the daemon is not dead but hung: pid ${old.pid} does not answer`);
    expect(warning).to.include('blast check --fix');
    expect(existsSync(paths.socket)).to.equal(true);
    expect(existsSync(paths.pidFile)).to.equal(true);
    process.kill(old.pid, 'SIGCONT');
    expect((await waitFor('the daemon answers again', () => status(paths))).pid).to.equal(old.pid);
  });

  it("clean removes a zombie daemon's files: killed, not yet reaped, it is dead", async () => {
    const envPath = bareEnv(join(box.root, 'bare env'));
    const shell = spawn('sleep', ['1000'], { stdio: 'ignore' });
    others.push(shell);
    // `exec sleep`: the daemon's parent is a process that never reaps its children.
    const parent = spawn(
      'sh',
      [
        '-c',
        `"$NODE" "$@" </dev/null >/dev/null 2>&1 & exec sleep 1000`,
        'sh',
        ...daemonArgs(box.env, [{ path: envPath, pids: [shell.pid!] }]),
      ],
      {
        env: { ...box.env, NODE: process.execPath },
        stdio: 'ignore',
      },
    );
    others.push(parent);
    const paths = daemonPaths(envPath, box.env);
    const daemon = await waitFor('daemon', () => status(paths));
    process.kill(daemon.pid, 'SIGKILL');
    await waitFor('a zombie', () => processState(daemon.pid) === 'Z');
    const cleaned = blast(box, ['clean']);
    expect(cleaned.status, cleaned.stderr).to.equal(0);
    expect(cleaned.stdout).to.include(`removed ${paths.socket}`);
    expect(cleaned.stdout).to.include(`removed ${paths.pidFile}`);
    expect(existsSync(paths.socket)).to.equal(false);
    expect(existsSync(paths.pidFile)).to.equal(false);
  });
});
