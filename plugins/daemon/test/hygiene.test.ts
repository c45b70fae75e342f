/**
 * Never leak a daemon, never run two for one environment (real CLI, real bash, real processes):
 * the shell killed in the middle of its `blast start`; `blast kill` right after `blast start`, under
 * load; `check --fix` and a shell that left; the runtime dir wiped under a running daemon; one
 * project reached through a symlink and its real path; 150 idle connections; a relative BLAST_HOME.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { living, readPidFile } from '../src/client.js';
import {
  blast,
  daemonBox,
  daemonPaths,
  daemonStatus,
  daemonProcesses,
  killDaemons,
  pathsOf,
  startedShell,
  status,
  waitFor,
  type Box,
  type Shell,
} from './support.js';
import { REPO } from '../../../test/support/cli.js';

const RUN = join(REPO, 'bin', 'run.js');

/** A bash that loads the real function and runs `script` (with $D its private dir). */
function bash(box: Box, script: string, options: { env?: Record<string, string>; cwd?: string } = {}) {
  const dir = join(box.root, `bash-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  const proc = spawn(
    'bash',
    ['--norc', '--noprofile', '-c', `eval "$(node ${JSON.stringify(RUN)} init bash)"\n${script}`],
    { env: { ...box.env, D: dir, ...options.env }, cwd: options.cwd, stdio: 'ignore' },
  );
  const file = (name: string) => join(dir, name);
  const read = (name: string, timeoutMs = 90_000) =>
    waitFor(
      `${name} from bash ${proc.pid}`,
      () => existsSync(file(name)) && readFileSync(file(name), 'utf8'),
      timeoutMs,
    );
  return { proc, dir, file, read };
}

describe('daemon hygiene: no leaked daemon, one daemon per environment (real CLI, real bash)', function () {
  this.timeout(300_000);
  let box: Box;
  let shells: Shell[] = [];
  let procs: ChildProcess[] = [];

  beforeEach(() => {
    box = daemonBox();
    shells = [];
    procs = [];
  });
  afterEach(() => {
    for (const s of shells) s.stop();
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    killDaemons(box);
    box.cleanup();
  });

  it('the shell killed -9 while its blast start runs: no daemon is left (none attached to pid 1)', async () => {
    // The environment exists, so the start reaches the activation quickly.
    const first = await startedShell(box, shells);
    first.signal('go-kill');
    await first.read('done');
    await waitFor('the first daemon to exit', () => daemonProcesses(box).length === 0, 30_000);

    // The CLI stops just before the activation (where it used to read process.ppid) until the
    // test removes the pause file.
    const sh = bash(
      box,
      'export BLAST_TEST_PAUSE_FILE="$D/paused"; blast start demo; echo $? >"$D/rc"; while :; do sleep 1; done',
      { env: { BLAST_TEST_PAUSE_AT: 'start-activate' } },
    );
    procs.push(sh.proc);
    const cli = Number(await sh.read('paused'));
    expect(living(cli)).to.equal(true);
    sh.proc.kill('SIGKILL');
    await waitFor('the shell to die', () => !living(sh.proc.pid!));
    rmSync(sh.file('paused'));
    await waitFor('the CLI to finish', () => !living(cli), 60_000);
    await waitFor('no daemon for demo', () => daemonProcesses(box).length === 0, 30_000);
  });

  it('10 start/kill pairs in quick succession, concurrently, under load, the daemon still starting: no daemon is left', async () => {
    const first = await startedShell(box, shells);
    first.signal('go-kill');
    await first.read('done');
    await waitFor('the first daemon to exit', () => daemonProcesses(box).length === 0, 30_000);
    first.stop();

    // Every daemon these starts spawn stays young (its socket not bound) until every kill is done.
    const hold = join(box.root, 'hold');
    writeFileSync(hold, '');
    box.env.BLAST_DAEMON_TEST_HOLD = hold;
    // Load: two CPU burners for the length of the test.
    for (let i = 0; i < 2; i++)
      procs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    const pairs = Array.from({ length: 10 }, () =>
      bash(
        box,
        'blast start demo 2>"$D/start.err"; blast kill 2>"$D/kill.err"; echo $? >"$D/rc"; while :; do sleep 1; done',
      ),
    );
    for (const p of pairs) procs.push(p.proc);
    for (const p of pairs)
      expect(await p.read('rc'), readFileSync(p.file('kill.err'), 'utf8')).to.equal('0\n');
    expect(daemonProcesses(box), 'no daemon was spawned: the test tests nothing').not.to.deep.equal([]);
    rmSync(hold);
    // Every shell lives on: only a daemon that kept one of them attached would stay.
    await waitFor('no daemon for demo', () => daemonProcesses(box).length === 0, 60_000).catch(
      async (error: Error) => {
        const paths = pathsOf(box, 'demo');
        const s = await status(paths).catch(() => undefined);
        const log = existsSync(paths.log) ? readFileSync(paths.log, 'utf8') : '';
        throw new Error(`${error.message}; left attached: ${JSON.stringify(s?.attached)}\n${log}`);
      },
    );
  });

  it('check --fix does not start a daemon again for a shell that ran blast kill while its daemon was dead', async () => {
    const shell = await startedShell(box, shells);
    const paths = pathsOf(box, 'demo');
    const old = await waitFor('daemon', () => status(paths));
    process.kill(old.pid, 'SIGKILL');
    await waitFor('the daemon to die', () => !living(old.pid));
    shell.signal('go-kill');
    expect(await shell.read('kill.rc'), await shell.read('kill.err')).to.equal('0\n');

    const check = blast(box, ['check', '--fix', '--json']);
    const daemon = (JSON.parse(check.stdout) as { checks: Array<Record<string, string>> }).checks.find(
      (r) => r.name === 'daemon' && r.env === 'demo',
    );
    expect(daemon?.message ?? '', check.stdout).not.to.include('still active');
    expect(daemonProcesses(box), 'a daemon started for a shell that left').to.deep.equal([]);
    // Nor does the next start by another shell take it back in.
    const other = await startedShell(box, shells);
    const s = await waitFor('the new daemon', () => status(paths));
    expect(s.attached).to.deep.equal([other.pid]);
  });

  it('the runtime dir wiped under a running daemon: it binds its socket again, no second daemon runs', async () => {
    const a = await startedShell(box, shells);
    const paths = pathsOf(box, 'demo');
    const first = await waitFor('daemon', () => status(paths));
    rmSync(box.runDir, { recursive: true, force: true });
    const b = await startedShell(box, shells);
    const s = await waitFor('both shells on one daemon', async () => {
      const now = await status(paths);
      return now.attached.length === 2 ? now : undefined;
    });
    expect(s.pid).to.equal(first.pid);
    expect(s.attached).to.have.members([a.pid, b.pid]);
    await waitFor('one daemon process', () => daemonProcesses(box).length === 1, 30_000);
    expect(daemonProcesses(box)).to.deep.equal([first.pid]);
    const check = blast(box, ['check', '--json']);
    const daemon = (JSON.parse(check.stdout) as { checks: Array<Record<string, string>> }).checks.find(
      (r) => r.name === 'daemon' && r.env === 'demo',
    );
    expect(daemon?.status, check.stdout).to.equal('ok');
    expect(daemon?.message).to.include(`pid ${first.pid}, 2 shell(s)`);
  });

  it('a project reached through a symlink and through its real path is one environment: one daemon', async () => {
    const real = join(box.root, 'real', 'proj');
    mkdirSync(real, { recursive: true });
    const link = join(box.root, 'link');
    symlinkSync(join(box.root, 'real'), link);
    const a = await startedShell(box, shells, `--path '${join(link, 'proj', '.venv')}'`);
    const b = await startedShell(box, shells, `--path '${join(real, '.venv')}'`);
    expect(await a.read('venv')).to.equal(join(real, '.venv'));
    expect(await b.read('venv')).to.equal(join(real, '.venv'));
    expect(await a.read('socket')).to.equal(await b.read('socket'));
    const paths = daemonPaths(join(real, '.venv'), box.env);
    const s = await waitFor('both shells on one daemon', async () => {
      const now = await status(paths);
      return now.attached.length === 2 ? now : undefined;
    });
    expect(s.attached).to.have.members([a.pid, b.pid]);
    await waitFor('one daemon process', () => daemonProcesses(box).length === 1, 30_000);
    // It serves one environment, under its real path.
    expect((await daemonStatus(paths)).envs.map((e) => e.env)).to.deep.equal([join(real, '.venv')]);
  });

  it('150 idle connections: list says running, check --fix leaves the daemon alone', async () => {
    // Idle clients are not timed out during the test: only the daemon's cap may make room.
    box.env.BLAST_DAEMON_IDLE_MS = '600000';
    await startedShell(box, shells);
    const paths = pathsOf(box, 'demo');
    const s = await waitFor('daemon', () => status(paths));
    await waitFor('the pid file to age', () => readPidFile(paths.pidFile)!.ageMs > 3500);
    const idle: Socket[] = [];
    try {
      await Promise.all(
        Array.from(
          { length: 150 },
          () =>
            new Promise<void>((resolve) => {
              const c = connect(paths.socket);
              idle.push(c);
              c.on('error', () => resolve());
              c.on('connect', () => resolve());
            }),
        ),
      );
      const list = blast(box, ['list', '--json']);
      expect(list.stdout, list.stderr).to.include('"daemon": "running"');
      const fix = blast(box, ['check', '--fix', '--json']);
      expect(fix.stdout).not.to.include('SIGKILL');
      expect(living(s.pid), 'the daemon was killed').to.equal(true);
      expect((await status(paths)).pid).to.equal(s.pid);
    } finally {
      for (const c of idle) c.destroy();
    }
  });

  it('a relative BLAST_HOME is resolved against the cwd: nothing lands under /', async () => {
    const name = `blast-rel-${process.pid}-${Date.now()}`;
    const cwd = join(box.root, 'work');
    mkdirSync(cwd);
    const home = join(cwd, name);
    try {
      const sh = bash(
        box,
        'blast start demo 2>"$D/start.err"; echo $? >"$D/rc"; printf %s "$BLAST_SOCKET" >"$D/socket"; while :; do sleep 1; done',
        { env: { BLAST_HOME: name }, cwd },
      );
      procs.push(sh.proc);
      expect(await sh.read('rc'), readFileSync(sh.file('start.err'), 'utf8')).to.equal('0\n');
      const envPath = join(home, 'envs', 'demo');
      const paths = daemonPaths(envPath, { ...box.env, BLAST_HOME: home });
      const s = await waitFor('the daemon', () => status(paths));
      expect(s.env).to.equal(envPath);
      await waitFor('the daemon log under the resolved home', () => existsSync(paths.log));
      expect(existsSync(paths.pidFile)).to.equal(true);
      expect(existsSync(join('/', name)), `/${name} was created`).to.equal(false);
    } finally {
      killDaemons(box);
      rmSync(join('/', name), { recursive: true, force: true });
    }
  });
});
