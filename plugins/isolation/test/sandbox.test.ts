/**
 * The sandbox, enforced by the real bubblewrap: what a sandboxed process may write (the
 * environment, the project, a private /tmp) and may not (the system, the home), the network cut
 * by no-network (a server this test runs on 127.0.0.1 is out of reach), the activated subshell
 * `blast start` opens inside it, and the veto when bubblewrap is missing.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { supportedByVersion } from '../../../test/python/world.js';
import { BIN, blast, sandbox, throughFunction, type Sandbox } from '../../../test/support/cli.js';
import { wrapperFor } from '../src/wrapper.js';
import { blastAsync, configure, makeEnv, unset } from './support.js';

/** Processes and threads of nobody (uid 65534) on the machine. */
function nobodyTasks(): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (/^Uid:\s+65534\s/m.test(status)) count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

/** Try to write each path; print `label=ok` or `label=denied`. */
const WRITES = `w() { if (echo x > "$1") 2>/dev/null; then echo "$2=ok"; else echo "$2=denied"; fi; }
w "$VIRTUAL_ENV/written" env
w ./written project
w "$PROBE" tmp
w "$HOME/written" home
w /etc/blast-sandbox-probe etc
w /usr/blast-sandbox-probe usr
cat "$PROBE" 2>/dev/null || true`;

describe('isolation: sandbox (real bubblewrap)', function () {
  this.timeout(180_000);
  let box: Sandbox;
  let env: string;
  let project: string;

  before(() => {
    box = sandbox();
    env = makeEnv(box, 'sbx');
    project = join(box.root, 'project');
    mkdirSync(project);
  });
  after(() => box?.cleanup());

  it('blast run: the env, the project and a private /tmp are writable; the system and the home are not', () => {
    const probe = join(tmpdir(), `blast-sandbox-probe-${process.pid}`);
    const writes = (): Record<string, string> => {
      const run = blast(box, ['run', 'sbx', '--', 'sh', '-c', WRITES], {
        cwd: project,
        env: { PROBE: probe },
      });
      expect(run.status, run.stderr).to.equal(0);
      return Object.fromEntries(run.stdout.match(/^\w+=\w+$/gm)!.map((l) => l.split('=')));
    };
    configure(box, 'sbx', 'isolation=sandbox');
    try {
      expect(writes()).to.deep.equal({
        env: 'ok',
        project: 'ok',
        tmp: 'ok',
        home: 'denied',
        etc: 'denied',
        usr: 'denied',
      });
      expect(readFileSync(join(env, 'written'), 'utf8')).to.equal('x\n');
      expect(readFileSync(join(project, 'written'), 'utf8')).to.equal('x\n');
      // The sandbox's /tmp was its own: nothing of it is left on the machine's.
      expect(existsSync(probe)).to.equal(false);
      expect(existsSync(join(box.home, 'written'))).to.equal(false);
      expect(existsSync('/etc/blast-sandbox-probe')).to.equal(false);
    } finally {
      unset(box, 'sbx', 'isolation');
    }
    // Without the policy the same command writes the home and the machine's /tmp.
    try {
      const free = writes();
      expect(free).to.include({ env: 'ok', project: 'ok', tmp: 'ok', home: 'ok' });
      expect(existsSync(probe)).to.equal(true);
    } finally {
      rmSync(probe, { force: true });
      rmSync('/etc/blast-sandbox-probe', { force: true });
      rmSync('/usr/blast-sandbox-probe', { force: true });
    }
  });

  describe('no-network', () => {
    let server: Server;
    let port: number;
    let accepted = 0;
    before(async () => {
      server = createServer((socket) => {
        accepted += 1;
        socket.end('hello\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    after(() => server?.close());

    const client = () =>
      blastAsync(box, [
        'run',
        'sbx',
        '--',
        'python',
        '-c',
        `import socket; s = socket.create_connection(("127.0.0.1", ${port}), 5); print(s.recv(16).decode().strip())`,
      ]);

    it('a Python client in the sandbox reaches a server on 127.0.0.1 without no-network, and cannot with it', async () => {
      configure(box, 'sbx', 'isolation=sandbox');
      try {
        const open = await client();
        expect(open.status, open.stderr).to.equal(0);
        expect(open.stdout).to.equal('hello\n');
        expect(accepted).to.equal(1);

        configure(box, 'sbx', 'no-network=true');
        const cut = await client();
        expect(cut.status).to.equal(1);
        expect(cut.stderr).to.match(/ConnectionRefusedError|OSError: \[Errno 101\]/);
        expect(accepted).to.equal(1);
      } finally {
        unset(box, 'sbx', 'isolation', 'no-network');
      }
    });

    it('no-network alone implies the sandbox', async () => {
      configure(box, 'sbx', 'no-network=true');
      try {
        const cut = await client();
        expect(cut.status).to.equal(1);
        expect(accepted).to.equal(1);
      } finally {
        unset(box, 'sbx', 'no-network');
      }
    });
  });

  it('start opens the activated subshell inside the sandbox; exit leaves it with its status', () => {
    configure(box, 'sbx', 'isolation=sandbox', 'memory=256M');
    try {
      const script = join(box.root, 'script');
      writeFileSync(script, '', { mode: 0o600 });
      // An interactive bash reads its commands from stdin when stdin is not a terminal.
      const typed = [
        'echo "sandbox=$BLAST_SANDBOX venv=$VIRTUAL_ENV pid=$$"',
        '(echo x > "$HOME/from-subshell") 2>/dev/null || echo home-denied',
        'echo y > ./from-subshell',
        `python -c "bytearray(400 * 1024 * 1024)" 2>/dev/null || echo memory-limited`,
        'exit 3',
      ].join('\n');
      const run = spawnSync(process.execPath, [BIN, 'start', 'sbx'], {
        cwd: project,
        env: {
          ...box.env,
          BLAST_SHELL: 'bash',
          BLAST_SHELL_SCRIPT: script,
          BLAST_SHELL_PID: String(process.pid),
        },
        input: `${typed}\n`,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, run.stderr).to.equal(3);
      expect(run.stderr).to.include(
        'runs in a bubblewrap sandbox (sandbox memory=256M): opening it as a subshell',
      );
      // In its own pid namespace the shell is one of the first processes.
      expect(run.stdout).to.match(new RegExp(`^sandbox=${env} venv=${env} pid=\\d$`, 'm'));
      expect(run.stdout).to.include('home-denied\n');
      expect(run.stdout).to.include('memory-limited\n');
      expect(readFileSync(join(project, 'from-subshell'), 'utf8')).to.equal('y\n');
      // The calling shell is not activated: its script stays empty.
      expect(readFileSync(script, 'utf8')).to.equal('');
    } finally {
      unset(box, 'sbx', 'isolation', 'memory');
    }
  });

  it('max-procs in the sandbox counts only its own processes, for a regular user', async function () {
    // Run as nobody (RLIMIT_NPROC never binds root). Thirty processes of nobody's outside the
    // sandbox already exceed max-procs 20: outside, the fork loop cannot start one; inside,
    // where the limit is set in the sandbox's own user namespace, it starts up to the limit.
    if (process.getuid?.() !== 0) this.skip();
    const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    const dir = mkdtempSync(join(tmpdir(), 'blast-nproc-'));
    chmodSync(dir, 0o777);
    const others = spawn('setpriv', [...nobody, 'sh', '-c', 'for i in $(seq 30); do sleep 30 & done; wait'], {
      detached: true,
      stdio: 'ignore',
    });
    try {
      while (nobodyTasks() < 31) await new Promise((resolve) => setTimeout(resolve, 50));
      const loop = 'i=0; while [ $i -lt 100 ]; do sleep 2 & i=$((i+1)); echo $i; done';
      const forked = (command: string, args: string[], env: Record<string, string> = {}) => {
        const run = spawnSync('setpriv', [...nobody, command, ...args], {
          env: { PATH: process.env.PATH!, ...env },
          cwd: dir,
          encoding: 'utf8',
          timeout: 30_000,
        });
        return Number(run.stdout.trim().split('\n').at(-1) || 0);
      };
      const wrapper = wrapperFor(
        {
          env: {
            name: 'nproc',
            path: dir,
            kind: 'local',
            python: { executable: '', version: '', implementation: '' },
            settings: { isolation: 'sandbox', 'max-procs': '20' },
          },
          purpose: 'run',
          command: 'sh',
          args: ['-c', loop],
          cwd: dir,
          environment: {},
          readable: [],
        },
        { PATH: process.env.PATH, HOME: dir },
      )!;
      expect(forked('prlimit', ['--nproc=20:20', '--', 'sh', '-c', loop])).to.equal(0);
      expect(forked(wrapper.command, wrapper.args, wrapper.env)).to.be.within(1, 19);
    } finally {
      process.kill(-others.pid!, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without usable user namespaces: the veto says so and how to enable them; nothing is created', () => {
    // A user namespace of our own whose limit of nested user namespaces is 0: bubblewrap meets
    // exactly what a kernel with unprivileged user namespaces switched off gives it.
    const script = join(box.root, 'script-userns');
    writeFileSync(script, '', { mode: 0o600 });
    const run = spawnSync(
      'unshare',
      [
        '--user',
        '--map-root-user',
        'sh',
        '-c',
        'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
        'sh',
        process.execPath,
        BIN,
        'start',
        'nouserns',
        '--isolation',
        'sandbox',
      ],
      {
        env: {
          ...box.env,
          BLAST_SHELL: 'bash',
          BLAST_SHELL_SCRIPT: script,
          BLAST_SHELL_PID: String(process.pid),
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status, run.stderr).to.equal(4);
    expect(run.stderr).to.include('bubblewrap cannot create a sandbox on this machine');
    expect(run.stderr).to.include('kernel.unprivileged_userns_clone=1');
    expect(readFileSync(script, 'utf8')).to.equal('');
    expect(existsSync(join(box.blastHome, 'envs', 'nouserns'))).to.equal(false);
  });

  it("a pip transaction inside the sandbox is refused with the way out (Blast's store is read-only there)", () => {
    configure(box, 'sbx', 'isolation=sandbox');
    try {
      // What the pip shim runs, from inside the sandbox.
      const run = blast(
        box,
        ['run', 'sbx', '--', process.execPath, BIN, 'pip', '--', 'install', '--no-index', 'anything'],
        {
          cwd: project,
        },
      );
      expect(run.status).to.equal(4);
      expect(run.stderr).to.include(
        "preInstall stopped by plugin @blast/isolation: pip transactions cannot run inside sbx's sandbox",
      );
      expect(run.stderr).to.include('python -m pip');
    } finally {
      unset(box, 'sbx', 'isolation');
    }
  });

  it('without bubblewrap on PATH: start --isolation sandbox is vetoed (exit 4, how to get it) and nothing is created', async () => {
    const py = (await supportedByVersion()).at(-1);
    if (!py) throw new Error('no supported Python on this machine');
    const empty = mkdtempSync(join(box.root, 'path-'));
    const run = throughFunction(
      box,
      ['start', 'nobwrap', '--isolation', 'sandbox', '--python', py.executable],
      {
        env: { PATH: empty },
      },
    );
    expect(run.status).to.equal(4);
    expect(run.stderr).to.include('preStart stopped by plugin @blast/isolation');
    expect(run.stderr).to.include('needs bubblewrap (bwrap), which is not on PATH');
    expect(run.stderr).to.include('apt-get install bubblewrap');
    expect(run.script).to.equal('');
    expect(existsSync(join(box.blastHome, 'envs', 'nobwrap'))).to.equal(false);
    const list = blast(box, ['list', '--json']);
    expect(list.stdout).not.to.include('nobwrap');

    // blast run of a sandboxed environment refuses the same way instead of running unconfined.
    configure(box, 'sbx', 'isolation=sandbox');
    try {
      const refused = blast(box, ['run', 'sbx', '--', '/bin/echo', 'unconfined'], { env: { PATH: empty } });
      expect(refused.status).to.equal(1);
      expect(refused.stdout).to.equal('');
      expect(refused.stderr).to.include('needs bubblewrap (bwrap)');
    } finally {
      unset(box, 'sbx', 'isolation');
    }
  });
});
