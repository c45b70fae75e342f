/**
 * The daemon's lifecycle through the real CLI and real bash shells using the real `blast`
 * function: start brings it up with the shell attached, kill detaches and it exits, a shell that
 * dies without kill is noticed, 20 concurrent starts leave one daemon.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { alive, readPidFile } from '../src/client.js';
import {
  blast,
  daemonBox,
  daemonProcesses,
  daemonStatus,
  killDaemons,
  pathsOf,
  shellStart,
  startedShell,
  status,
  waitFor,
  type Box,
  type Shell,
} from './support.js';
import { BIN, throughFunction } from '../../../test/support/cli.js';

describe('daemon lifecycle (real CLI, real bash, real processes)', function () {
  this.timeout(200_000);
  let box: Box;
  let shells: Shell[] = [];

  beforeEach(() => {
    box = daemonBox();
    shells = [];
  });
  afterEach(() => {
    for (const s of shells) s.stop();
    killDaemons(box);
    box.cleanup();
  });

  const open = (env = 'demo') => startedShell(box, shells, env);

  it('start brings the daemon up with the shell attached; kill detaches it and the daemon exits', async () => {
    const shell = await open();
    const paths = pathsOf(box, 'demo');
    expect(await shell.read('socket')).to.equal(paths.socket);
    expect(await shell.read('venv')).to.equal(join(box.blastHome, 'envs', 'demo'));
    const s = await waitFor('daemon status', () => status(paths));
    expect(s.attached).to.deep.equal([shell.pid]);
    expect(s.env).to.equal(join(box.blastHome, 'envs', 'demo'));
    expect(s.packages).to.be.greaterThan(0); // pip
    // The socket is the user's only: 0600 in a 0700 dir.
    expect(statSync(paths.runDir).mode & 0o777).to.equal(0o700);
    expect(statSync(paths.socket).mode & 0o777).to.equal(0o600);
    expect(statSync(paths.socket).isSocket()).to.equal(true);

    shell.signal('go-kill');
    await shell.read('done');
    expect(await shell.read('kill.rc'), await shell.read('kill.err')).to.equal('0\n');
    expect(await shell.read('socket-after')).to.equal('unset');
    await waitFor('daemon exit', () => !alive(s.pid), 10_000);
    expect(existsSync(paths.socket)).to.equal(false);
    expect(existsSync(paths.pidFile)).to.equal(false);
    const checked = JSON.parse(blast(box, ['check', '--json']).stdout) as {
      checks: Array<{ name: string; status: string; message: string }>;
    };
    expect(checked.checks.find((c) => c.name === 'daemon')).to.include({
      status: 'ok',
      message: 'stopped (no active shell)',
    });
  });

  it('a shell that dies without kill: the daemon notices and exits within a few seconds', async () => {
    const shell = await open();
    const paths = pathsOf(box, 'demo');
    const s = await waitFor('daemon status', () => status(paths));
    shell.stop();
    await waitFor('daemon exit', () => !alive(s.pid), 15_000);
    expect(existsSync(paths.socket)).to.equal(false);
  });

  it('an environment deleted under its daemon: the daemon exits and writes nothing there', async () => {
    await open();
    const paths = pathsOf(box, 'demo');
    const s = await waitFor('daemon status', () => status(paths));
    rmSync(join(box.blastHome), { recursive: true, force: true });
    await waitFor('daemon exit', () => !alive(s.pid), 10_000);
    expect(existsSync(box.blastHome)).to.equal(false);
    expect(existsSync(paths.socket)).to.equal(false);
  });

  it('a second shell attaches to the same daemon; the daemon stays until the last one goes', async () => {
    const a = await open();
    const paths = pathsOf(box, 'demo');
    const first = await waitFor('daemon', () => status(paths));
    const b = await open();
    const both = await waitFor('both attached', async () => {
      const s = await status(paths);
      return s.attached.length === 2 ? s : undefined;
    });
    expect(both.pid).to.equal(first.pid);
    expect(both.attached).to.have.members([a.pid, b.pid]);
    a.signal('go-kill');
    await a.read('done');
    await new Promise((r) => setTimeout(r, 300));
    expect((await status(paths)).attached).to.deep.equal([b.pid]);
    b.stop();
    await waitFor('daemon exit', () => !alive(first.pid), 10_000);
  });

  // Per-user daemon: the shell moves from one environment to the other on the same daemon, which
  // stops serving the first (it used to be the first environment's own daemon that exited).
  it('switching to another environment moves the shell: the daemon stops serving the first one', async () => {
    const a = throughFunction(box, ['start', 'one']);
    expect(a.status, a.stderr).to.equal(0);
    const one = await waitFor('daemon serving one', () => status(pathsOf(box, 'one')));
    expect(one.attached).to.deep.equal([process.pid]); // spawnSync: this process is the "shell"
    const socket = /BLAST_SOCKET='([^']*)'/.exec(a.script)![1]!;
    const state = /BLAST_SHELL_STATE='([^']*)'/.exec(a.script)![1]!;
    const b = throughFunction(box, ['start', 'two'], {
      env: {
        BLAST_SOCKET: socket,
        BLAST_SHELL_STATE: state,
        VIRTUAL_ENV: join(box.blastHome, 'envs', 'one'),
      },
    });
    expect(b.status, b.stderr).to.equal(0);
    // One socket for every environment: the shell keeps its BLAST_SOCKET.
    expect(pathsOf(box, 'two').socket).to.equal(socket);
    expect(b.script).not.to.match(/unset[^\n]*BLAST_SOCKET/);
    const two = await waitFor('daemon serving two', () => status(pathsOf(box, 'two')));
    expect(two.attached).to.deep.equal([process.pid]);
    expect(two.pid).to.equal(one.pid);
    await waitFor('one no longer served', async () =>
      (await daemonStatus(pathsOf(box, 'one'))).envs.every((e) => e.env !== one.env),
    );
    expect(JSON.parse(readFileSync(pathsOf(box, 'one').attached, 'utf8'))).to.deep.equal([]);
  });

  it('20 concurrent starts of one environment leave one daemon, one socket, every shell attached', async () => {
    // Create the environment first (creation races are the core's business), then stop its daemon.
    const created = throughFunction(box, ['start', 'demo']);
    expect(created.status, created.stderr).to.equal(0);
    const paths = pathsOf(box, 'demo');
    const envPath = join(box.blastHome, 'envs', 'demo');
    const first = await waitFor('daemon', () => status(paths));
    throughFunction(box, ['kill'], {
      env: {
        BLAST_SHELL_STATE: /BLAST_SHELL_STATE='([^']*)'/.exec(created.script)![1]!,
        VIRTUAL_ENV: envPath,
      },
    });
    await waitFor('first daemon exit', () => !alive(first.pid), 10_000);

    const started = await Promise.all(Array.from({ length: 20 }, () => shellStart(box, 'demo')));
    shells.push(...started);
    for (const s of started) {
      await s.read('ready');
      expect(await s.read('start.rc'), await s.read('start.err')).to.equal('0\n');
    }
    const all = await waitFor('20 attached', async () => {
      const s = await status(paths);
      return s.attached.length === 20 ? s : undefined;
    });
    expect(all.attached).to.have.members(started.map((s) => s.pid));
    // Losers exit right after attaching to the winner.
    await waitFor('one daemon process', () => daemonProcesses(box).length === 1, 10_000);
    expect(daemonProcesses(box)).to.deep.equal([all.pid]);
    expect(readdirSync(paths.runDir).filter((n) => n.endsWith('.sock'))).to.have.length(1);
    // The pid file, the lock, is in the environment's state dir.
    expect(readPidFile(paths.pidFile)?.pid).to.equal(all.pid);
  });

  it("the daemon holds none of the CLI's file descriptors (inherited pipes and files are closed)", async () => {
    const file = join(box.root, 'script');
    writeFileSync(file, '', { mode: 0o600 });
    const held = join(box.root, 'held');
    // bash hands the CLI a pipe on 3 and a file on 200, without close-on-exec, as shells do.
    const child = spawn('bash', ['-c', 'exec 200>"$HELD"; exec 3>&1; exec node "$BIN" start demo'], {
      env: {
        ...box.env,
        BLAST_SHELL: 'bash',
        BLAST_SHELL_SCRIPT: file,
        BLAST_SHELL_PID: String(process.pid),
        HELD: held,
        BIN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close' fires only when every holder of the stdout/stderr pipes closed them.
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const code = await Promise.race([
      closed,
      new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 30_000)),
    ]);
    expect(code, stderr).to.equal(0);
    const s = await waitFor('daemon', () => status(pathsOf(box, 'demo')));
    const targets = readdirSync(`/proc/${s.pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${s.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    expect(targets).not.to.include(held);
    expect(readFileSync(join(pathsOf(box, 'demo').log), 'utf8')).to.match(
      /closed inherited descriptors .*200/,
    );
  });
});
