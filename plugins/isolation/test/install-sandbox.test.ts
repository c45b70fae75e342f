/**
 * The install sandbox, enforced by the real bubblewrap on real pip builds: sdists with an in-tree
 * build backend (test/support/sdists.ts) — a benign one installs, and sees a private home; hostile
 * ones (read a secret in the home, write into the home, connect to a socket in the runtime dir)
 * fail, are rolled back (pip freeze the same) with a message that says the sandbox stopped them,
 * and reach nothing; the same sdists succeed with the sandbox off (the test can fail).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { BIN, blast, sandbox, type Run, type Sandbox } from '../../../test/support/cli.js';
import { buildSdist, type TinySdist } from '../../../test/support/sdists.js';
import { isolatedPipEnv } from '../../../test/support/wheels.js';
import { installBwrapArgs, verdictOf } from '../src/install-sandbox.js';
import { configure, makeEnv, unset } from './support.js';

const SECRET = 'BEGIN-OPENSSH-PRIVATE-KEY-canary-4711';

/** Every file under `dir` that contains `text`. */
function filesContaining(dir: string, text: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesContaining(path, text));
    else if (entry.isFile() && readFileSync(path).includes(text)) out.push(path);
  }
  return out;
}

describe('isolation: install sandbox (real bubblewrap, real pip builds)', function () {
  this.timeout(600_000);
  let box: Sandbox;
  let env: string;
  let python: string;
  let runtime: string;
  let socketPath: string;
  let server: Server;
  let connections = 0;
  let benign: TinySdist;
  let reader: TinySdist;
  let writer: TinySdist;
  let caller: TinySdist;

  before(async () => {
    box = sandbox();
    runtime = box.env.XDG_RUNTIME_DIR!; // the sandbox's own, 0700
    env = makeEnv(box, 'inst');
    python = join(env, 'bin', 'python');
    mkdirSync(join(box.home, '.ssh'), { mode: 0o700 });
    writeFileSync(join(box.home, '.ssh', 'id_rsa'), SECRET, { mode: 0o600 });
    const dists = join(box.root, 'dists');
    mkdirSync(dists);
    // The benign build says what it saw of the home: the sandbox's is private.
    benign = buildSdist(
      python,
      dists,
      'benign',
      '1.0',
      "VALUE = 'sees-secret=%s' % os.path.exists(os.path.expanduser('~/.ssh/id_rsa'))",
    );
    reader = buildSdist(
      python,
      dists,
      'reader',
      '1.0',
      "VALUE = open(os.path.expanduser('~/.ssh/id_rsa')).read()",
    );
    writer = buildSdist(
      python,
      dists,
      'writer',
      '1.0',
      "open(os.path.expanduser('~/pwned'), 'w').write('x')\nVALUE = 'wrote'",
    );
    caller = buildSdist(
      python,
      dists,
      'caller',
      '1.0',
      [
        'import socket',
        's = socket.socket(socket.AF_UNIX)',
        "s.connect(os.path.join(os.environ['XDG_RUNTIME_DIR'], 'agent.sock'))",
        "s.sendall(b'hello')",
        's.close()',
        "VALUE = 'connected'",
      ].join('\n'),
    );
    socketPath = join(runtime, 'agent.sock');
    server = createServer((c) => {
      connections++;
      c.resume();
    });
    await new Promise<void>((done) => server.listen(socketPath, done));
  });
  after(async () => {
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    box?.cleanup();
  });

  /** `blast pip -- ARGS` in the environment (async: the socket server must go on accepting). */
  const pip = (args: string[], extra: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'pip', '--', ...args], {
        env: { ...(isolatedPipEnv(box.env) as Record<string, string>), VIRTUAL_ENV: env, ...extra },
        cwd: box.home,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ stdout, stderr, status: code ?? (signal ? 128 : 1) }));
    });
  const freeze = () => spawnSync(python, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8' }).stdout;
  const valueOf = (name: string) =>
    spawnSync(python, ['-c', `import ${name}; print(${name}.VALUE)`], { encoding: 'utf8' }).stdout.trim();
  const install = (dist: TinySdist, extra?: Record<string, string>) =>
    pip(['install', '--no-index', '--no-cache-dir', dist.path], extra);

  it('a benign sdist builds and installs in the sandbox, which shows it a private home', async () => {
    const run = await install(benign);
    expect(run.status, run.stderr).to.equal(0);
    expect(valueOf('benign')).to.equal('sees-secret=False');
    expect(run.stderr).not.to.match(/not sandboxed/);
  });

  it('a build that reads ~/.ssh/id_rsa fails, is rolled back and says the sandbox stopped it', async () => {
    const before = freeze();
    const run = await install(reader);
    expect(run.status).to.not.equal(0);
    expect(run.stderr).to.include('the install sandbox stopped it');
    expect(run.stderr).to.include(join(box.home, '.ssh', 'id_rsa'));
    expect(run.stderr).to.include('BLAST_INSTALL_SANDBOX=off pip install');
    expect(run.stderr).to.match(/environment was put back/);
    expect(freeze()).to.equal(before);
    expect(run.stdout + run.stderr).not.to.include(SECRET);
    expect(filesContaining(env, SECRET)).to.deep.equal([]);
  });

  it('a build that writes into the home fails and leaves nothing there', async () => {
    const before = freeze();
    const run = await install(writer);
    expect(run.status).to.not.equal(0);
    expect(run.stderr).to.include('the install sandbox stopped it: it tried to write');
    expect(freeze()).to.equal(before);
    expect(existsSync(join(box.home, 'pwned'))).to.equal(false);
  });

  it('a build that connects to a socket in the runtime dir fails; the server sees no connection', async () => {
    const before = freeze();
    const run = await install(caller);
    expect(run.status).to.not.equal(0);
    expect(run.stderr).to.include('the install sandbox stopped it: it tried to connect to a local socket');
    expect(freeze()).to.equal(before);
    expect(connections).to.equal(0);
  });

  it('with the sandbox off (for one command, then by the setting), the same sdists reach all three', async () => {
    const run = await install(reader, { BLAST_INSTALL_SANDBOX: 'off' });
    expect(run.status, run.stderr).to.equal(0);
    expect(valueOf('reader')).to.equal(SECRET);
    configure(box, 'inst', 'install-sandbox=off');
    try {
      const both = await pip(['install', '--no-index', '--no-cache-dir', writer.path, caller.path]);
      expect(both.status, both.stderr).to.equal(0);
      expect(existsSync(join(box.home, 'pwned'))).to.equal(true);
      expect(connections).to.be.greaterThan(0);
      const check = blast(box, ['check', '--json']);
      expect(check.stdout).to.include('install-sandbox=off');
    } finally {
      unset(box, 'inst', 'install-sandbox');
      rmSync(join(box.home, 'pwned'), { force: true });
    }
  });

  it('blast check says installs are sandboxed here', () => {
    const check = blast(box, ['check', '--json']);
    const results = (
      JSON.parse(check.stdout) as { checks: Array<{ name: string; status: string; message: string }> }
    ).checks;
    const ours = results.filter((r) => r.name === 'install sandbox');
    expect(ours.map((r) => r.status)).to.deep.equal(['ok']);
    expect(ours[0]!.message).to.include('bubblewrap');
  });

  it('without bubblewrap: one notice, once, and pip runs unsandboxed; install-sandbox=on refuses', async () => {
    const cache = mkdtempSync(join(box.root, 'cache-'));
    const noBwrap = { PATH: '/nonexistent', BLAST_CACHE_DIR: cache };
    const first = await pip(
      ['install', '--no-index', '--no-cache-dir', '--force-reinstall', benign.path],
      noBwrap,
    );
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stderr.match(/not sandboxed on this machine/g)).to.have.length(1);
    expect(valueOf('benign')).to.equal('sees-secret=True');
    const second = await pip(
      ['install', '--no-index', '--no-cache-dir', '--force-reinstall', benign.path],
      noBwrap,
    );
    expect(second.status, second.stderr).to.equal(0);
    expect(second.stderr).not.to.match(/not sandboxed/);
    const before = freeze();
    const refused = await pip(['install', '--no-index', '--no-cache-dir', reader.path], {
      ...noBwrap,
      BLAST_INSTALL_SANDBOX: 'on',
    });
    expect(refused.status).to.not.equal(0);
    expect(refused.stderr).to.include('cannot run in the install sandbox');
    expect(freeze()).to.equal(before);
    expect(statSync(cache).isDirectory()).to.equal(true);
  });
});

describe('isolation: install sandbox (unit)', () => {
  it('bwrap: the home and Blast home are never made writable, the home is read-only', () => {
    const { args } = installBwrapArgs({
      cwd: '/home/u',
      home: '/home/u',
      blastHome: '/home/u/.local/share/blast',
      runtimeDirs: ['/run/user/1000'],
      readable: [],
      writable: ['/home/u/.local/share/blast/envs/x', '/home/u', '/home/u/.cache/pip'],
      runUser: true,
    });
    const binds = args.flatMap((a, i) => (a === '--bind-try' ? [args[i + 1]] : []));
    expect(binds).to.deep.equal(['/home/u/.cache/pip', '/home/u/.local/share/blast/envs/x']);
    expect(args.join(' ')).to.include('--tmpfs /run/user --tmpfs /home/u');
    expect(args.slice(args.indexOf('--remount-ro'), args.indexOf('--remount-ro') + 2)).to.deep.equal([
      '--remount-ro',
      '/home/u',
    ]);
  });

  it('verdict: a hidden path read, a write outside, a socket; not pip failing on its own', () => {
    const run = { hidden: ['/tmp', '/home/u'], exposed: ['/home/u/.cache/pip'], writable: ['/env'] };
    expect(
      verdictOf("FileNotFoundError: [Errno 2] No such file or directory: '/home/u/.aws/credentials'", run),
    ).to.include('read /home/u/.aws/credentials');
    expect(verdictOf("OSError: [Errno 30] Read-only file system: '/usr/x'", run)).to.include('write /usr/x');
    const socket =
      '  File "b.py", line 3, in <module>\n    s.connect(p)\nFileNotFoundError: [Errno 2] No such file or directory\n';
    expect(verdictOf(socket, run)).to.include('local socket');
    expect(
      verdictOf("FileNotFoundError: [Errno 2] No such file or directory: '/tmp/pip-build/x'", run),
    ).to.equal(undefined);
    expect(verdictOf('ERROR: No matching distribution found for nothing', run)).to.equal(undefined);
  });
});
