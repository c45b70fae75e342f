/**
 * The daemon's socket against bad clients: a real daemon process, a real Unix socket. Garbage,
 * truncated JSON, oversized lines and wrong types get error replies and the daemon lives on; a
 * client that sends half a line and hangs is disconnected; another user cannot connect at all.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { alive, request } from '../src/client.js';
import {
  bareEnv,
  daemonArgs,
  daemonPaths,
  killDaemons,
  status,
  waitFor,
  type DaemonPaths,
} from './support.js';
import { sandbox, type Sandbox } from '../../../test/support/cli.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Conversation {
  socket: Socket;
  replies: string[];
  closed: Promise<void>;
}

function open(path: string): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const replies: string[] = [];
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        replies.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
      }
    });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('error', reject);
    socket.on('connect', () => resolve({ socket, replies, closed }));
  });
}

describe('daemon protocol against bad clients (real daemon, real socket)', function () {
  this.timeout(200_000);
  let box: Sandbox;
  let shell: ChildProcess;
  let paths: DaemonPaths;
  let daemonPid: number;

  before(async () => {
    box = sandbox({ BLAST_DAEMON_IDLE_MS: '1000' });
    // With its pyvenv.cfg: without one the daemon takes the environment for removed, and stops.
    const envPath = bareEnv(join(box.root, 'env'));
    shell = spawn('sleep', ['1000'], { stdio: 'ignore' });
    // The built daemon (tests import the sources; the daemon runs from dist, as installed).
    spawn(process.execPath, daemonArgs(box.env, [{ path: envPath, pids: [shell.pid!] }]), {
      env: box.env,
      stdio: 'ignore',
      detached: true,
    }).unref();
    paths = daemonPaths(envPath, box.env);
    daemonPid = (await waitFor('daemon', () => status(paths))).pid;
  });
  after(() => {
    shell.kill('SIGKILL');
    killDaemons(box);
    box.cleanup();
  });

  it('answers ping, status, history; unknown ops and bad arguments are errors', async () => {
    expect(await request(paths.socket, 'ping')).to.deep.equal({ pong: true, pid: daemonPid });
    expect((await status(paths)).attached).to.deep.equal([shell.pid]);
    expect(await request(paths.socket, 'history', { env: paths.envPath })).to.deep.equal({ changes: [] });
    for (const [op, args, error] of [
      ['frobnicate', {}, /unknown op/],
      ['attach', { pid: 'x' }, /pid must be a positive integer/],
      ['attach', { pid: 999_999_999 }, /pid must be/],
      ['detach', { pid: -1 }, /pid must be/],
      ['history', { limit: 0 }, /limit must be/],
      ['history', { env: 'relative' }, /env must be an absolute path/],
      ['attach', { pid: 2, env: '/nowhere' }, /no process 2|state/],
    ] as const)
      await request(paths.socket, op, args).then(
        () => expect.fail(`${op} should fail`),
        (e: Error) => expect(e.message).to.match(error),
      );
  });

  it('survives 1000+ random messages (garbage, truncated JSON, huge lines, wrong types), then answers a ping', async () => {
    const rand = random(4242);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const valid = () =>
      JSON.stringify({ v: 1, id: Math.floor(rand() * 1e6), op: pick(['ping', 'status', 'history']) });
    const wrongTypes: unknown[] = [
      42,
      'ping',
      null,
      true,
      [],
      [1, 2, 3],
      {},
      { v: 1 },
      { v: '1', op: 'ping' },
      { v: 2, op: 'ping' },
      { v: 1, op: 7 },
      { v: 1, op: null },
      { v: 1, op: ['ping'] },
      { v: 1, op: { op: 'ping' } },
      { v: 1, op: 'attach' },
      { v: 1, op: 'attach', pid: '1' },
      { v: 1, op: 'attach', pid: 1.5 },
      { v: 1, op: 'attach', pid: -7 },
      { v: 1, op: 'attach', pid: 1e300 },
      { v: 1, op: 'detach', pid: [] },
      { v: 1, op: 'history', limit: 'all' },
      { v: 1, op: 'history', limit: -1 },
      { v: 1, op: 'history', limit: 1e9 },
      { v: 1, id: { deep: [1, { x: 2 }] }, op: 'nope' },
      { v: 1, op: '\u0000\uffff' },
      { v: 1, op: 'x'.repeat(5000) },
      { __proto__: { v: 1 }, op: 'ping' },
      { v: 1, op: 'constructor' },
      { v: 1, op: 'toString' },
    ];
    const messages: Array<{ bytes: Buffer; lines: number }> = [];
    for (let i = 0; i < 1200; i++) {
      const kind = rand();
      if (kind < 0.3) {
        // Random bytes, no newline inside: exactly one line.
        const bytes = Buffer.alloc(1 + Math.floor(rand() * 300));
        for (let j = 0; j < bytes.length; j++) {
          let b = Math.floor(rand() * 256);
          if (b === 0x0a) b = 0x0b;
          bytes[j] = b;
        }
        messages.push({ bytes: Buffer.concat([bytes, Buffer.from('\n')]), lines: 1 });
      } else if (kind < 0.55) {
        const full = valid();
        const cut = full.slice(0, Math.floor(rand() * full.length));
        // An empty line is skipped without a reply (blank lines between messages are allowed).
        messages.push({ bytes: Buffer.from(cut + '\n'), lines: cut === '' ? 0 : 1 });
      } else if (kind < 0.58) {
        const size = 64 * 1024 + 1 + Math.floor(rand() * 200_000);
        const body =
          rand() < 0.5 ? 'A'.repeat(size) : JSON.stringify({ v: 1, op: 'ping', pad: 'p'.repeat(size) });
        messages.push({ bytes: Buffer.from(body + '\n'), lines: 1 });
      } else if (kind < 0.9) {
        messages.push({ bytes: Buffer.from(JSON.stringify(pick(wrongTypes)) + '\n'), lines: 1 });
      } else {
        const ops = ['pong', 'shut', 'attach ', 'PING', 'status\n', 'histor', ''];
        messages.push({ bytes: Buffer.from(JSON.stringify({ v: 1, op: pick(ops) }) + '\n'), lines: 1 });
      }
    }
    // Over 12 connections at once, each message in random fragments.
    const per = Math.ceil(messages.length / 12);
    await Promise.all(
      Array.from({ length: 12 }, async (_, c) => {
        const mine = messages.slice(c * per, (c + 1) * per);
        const conv = await open(paths.socket);
        const all = Buffer.concat(mine.map((m) => m.bytes));
        for (let at = 0; at < all.length;) {
          const n = 1 + Math.floor(rand() * 9000);
          conv.socket.write(all.subarray(at, at + n));
          at += n;
        }
        const expected = mine.reduce((sum, m) => sum + m.lines, 0);
        await waitFor(
          `${expected} replies on connection ${c}`,
          () => conv.replies.length >= expected,
          60_000,
        ).catch((error: Error) => {
          throw new Error(
            `${error.message} (got ${conv.replies.length}): ${conv.replies.slice(-3).join(' | ')}`,
          );
        });
        conv.socket.end();
        for (const line of conv.replies) {
          const reply = JSON.parse(line) as { v: number; ok: boolean; error?: string };
          expect(reply.v).to.equal(1);
          expect(reply.ok, line).to.equal(false);
          expect(reply.error).to.be.a('string');
        }
        expect(conv.replies).to.have.length(expected);
      }),
    );
    expect(messages.length).to.be.at.least(1000);
    expect(alive(daemonPid)).to.equal(true);
    expect(await request(paths.socket, 'ping')).to.deep.equal({ pong: true, pid: daemonPid });
    expect((await status(paths)).attached).to.deep.equal([shell.pid]);
  });

  it('answers valid requests pipelined on one connection, in order, with their ids', async () => {
    const conv = await open(paths.socket);
    conv.socket.write(
      [1, 2, 3].map((id) => JSON.stringify({ v: 1, id, op: 'ping' })).join('\n') +
        '\n{"v":1,"id":"x","op":"status"}\n',
    );
    await waitFor('4 replies', () => conv.replies.length >= 4);
    conv.socket.end();
    const replies = conv.replies.map((l) => JSON.parse(l) as { id: unknown; ok: boolean });
    expect(replies.map((r) => r.id)).to.deep.equal([1, 2, 3, 'x']);
    expect(replies.every((r) => r.ok)).to.equal(true);
  });

  it('disconnects a client that sends half a line and hangs', async () => {
    const conv = await open(paths.socket);
    conv.socket.write('{"v":1,"op":"pi');
    const since = Date.now();
    await Promise.race([
      conv.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('still connected after 10 s')), 10_000)),
    ]);
    expect(Date.now() - since).to.be.within(500, 5000);
    expect(await request(paths.socket, 'ping')).to.deep.include({ pong: true });
  });

  it('the socket is 0600 in a 0700 dir, and another user cannot connect (EACCES)', function () {
    expect(statSync(paths.runDir).mode & 0o777).to.equal(0o700);
    expect(statSync(paths.socket).mode & 0o777).to.equal(0o600);
    if (process.getuid?.() !== 0 || spawnSync('id', ['nobody']).status !== 0) this.skip();
    // Open the path down to the runtime dir, so only Blast's own modes stand in the way.
    chmodSync(box.root, 0o755);
    chmodSync(box.env.XDG_RUNTIME_DIR!, 0o755);
    const asNobody = () =>
      spawnSync(
        'setpriv',
        [
          '--reuid=nobody',
          '--regid=nogroup',
          '--clear-groups',
          process.execPath,
          '-e',
          `require('net').connect(process.argv[1]).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`,
          paths.socket,
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
    const blockedByDir = asNobody();
    expect(blockedByDir.stdout.trim(), blockedByDir.stderr).to.equal('EACCES');
    // Even with the dir open to others, the socket's own mode refuses them.
    chmodSync(paths.runDir, 0o711);
    try {
      const blockedBySocket = asNobody();
      expect(blockedBySocket.stdout.trim(), blockedBySocket.stderr).to.equal('EACCES');
    } finally {
      chmodSync(paths.runDir, 0o700);
    }
    expect(request(paths.socket, 'ping')).to.be.a('promise');
  });
});
