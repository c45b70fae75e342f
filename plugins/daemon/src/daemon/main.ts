/**
 * The daemon of one environment: `node main.js <env path> [--attach PID]...`, started detached by
 * the plugin's `activate` hook with the CLI's environment (so it computes the same paths).
 *
 * It owns the environment (see lock.ts), serves the socket (protocol.ts; bound again when someone
 * removes it), keeps the attached shells (checked every few seconds with kill(pid, 0); it exits
 * when none is left, also when the one it was started for died before it ran), watches
 * site-packages and bin/ (fs.watch, debounced) and records every settled change of the installed
 * distributions in the state database (store.ts), and keeps a few figures (disk size, packages,
 * its own memory and CPU).
 */
import { existsSync, mkdirSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { living, SHUTTING_DOWN } from '../client.js';
import { attachable, leftSince, recordedShells, writeAttached } from '../detached.js';
import { daemonPaths } from '../paths.js';
import { diskUsage } from './disk.js';
import { closeInheritedDescriptors } from './fds.js';
import { acquire, release } from './lock.js';
import { ensureRunDir } from '../run-dir.js';
import { Log } from './log.js';
import { diff, scanPackages, sitePackagesDirs, type Packages } from './packages.js';
import { pidArg, RequestError, serveConnection } from './protocol.js';
import { Store, type ChangeRecord } from './store.js';

const number = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
/** How often attached shells are checked (ms). */
const SHELL_CHECK_MS = number('BLAST_DAEMON_SHELL_CHECK_MS', 2000);
/** Quiet time before a burst of file events counts as one settled change (ms). */
const DEBOUNCE_MS = number('BLAST_DAEMON_DEBOUNCE_MS', 300);
/** Quiet time after a settled change before it is recorded as a revision (`blast record`, ms). */
const RECORD_QUIET_MS = number('BLAST_DAEMON_RECORD_QUIET_MS', 1500);
/** A connection that sends nothing for this long is closed (ms). */
const IDLE_MS = number('BLAST_DAEMON_IDLE_MS', 5000);
/**
 * Open connections at most. One more evicts the connection that has been idle longest (none with a
 * request in flight), so clients that connect and send nothing cannot lock out a status request.
 */
const MAX_CONNECTIONS = number('BLAST_DAEMON_MAX_CONNECTIONS', 64);
/** How often the daemon checks that its socket is still there (ms): one stat. */
const SOCKET_CHECK_MS = number('BLAST_DAEMON_SOCKET_CHECK_MS', 1000);

function parseArgs(argv: string[]): {
  envPath: string;
  attach: number[];
  since: number;
  recordWith?: string;
} {
  const [envPath, ...rest] = argv;
  if (!envPath)
    throw new Error('usage: main.js <env path> [--attach PID]... [--since MS] [--record-with BIN]');
  const attach: number[] = [];
  let recordWith: string | undefined;
  // Without --since: as of now (a shell that left before this daemon ran stays out).
  let since = Date.now();
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--attach') {
      const pid = Number(rest[++i]);
      if (Number.isInteger(pid) && pid > 1) attach.push(pid);
    } else if (rest[i] === '--since') {
      const ms = Number(rest[++i]);
      if (Number.isFinite(ms) && ms > 0) since = ms;
    } else if (rest[i] === '--record-with') {
      recordWith = rest[++i];
    }
  }
  return { envPath: resolve(envPath), attach, since, recordWith };
}

/**
 * Have the core record the environment's current state as a revision (`blast record`): the
 * daemon may not import the core, so it runs its CLI. The core skips it while a pip transaction
 * runs (that records its own) and when nothing changed since the newest revision.
 */
function recordRevision(
  bin: string,
  envPath: string,
  source: string,
  say: (m: string) => void,
): Promise<void> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, 'record', '--path', envPath, '--source', source, '--json'],
      { env: process.env, timeout: 120_000, cwd: '/' },
      (error, stdout, stderr) => {
        if (error) say(`blast record failed: ${(stderr || error.message).trim().split('\n')[0]}`);
        else {
          try {
            const n = (JSON.parse(stdout) as { recorded?: { n: number } }).recorded?.n;
            if (n !== undefined) say(`recorded revision ${n} (${source})`);
          } catch {
            // nothing to log
          }
        }
        done();
      },
    );
  });
}

/**
 * Test-only: `BLAST_DAEMON_TEST_HOLD=<file>` keeps a starting daemon from binding its socket while
 * the file exists (two minutes at most), so tests can act while a daemon is young.
 */
async function testHold(): Promise<void> {
  const file = process.env.BLAST_DAEMON_TEST_HOLD;
  const deadline = Date.now() + 120_000;
  while (file && existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

async function main(): Promise<void> {
  const inherited = closeInheritedDescriptors();
  // Its cwd is /: a relative BLAST_HOME would put the state under / (the CLI passes it absolute).
  if (process.env.BLAST_HOME && !isAbsolute(process.env.BLAST_HOME)) {
    process.exitCode = 2;
    return;
  }
  const { envPath, attach, since, recordWith } = parseArgs(process.argv.slice(2));
  const paths = daemonPaths(envPath, process.env);
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const log = new Log(paths.log);
  const say = (m: string) => log.write(m);

  const acquired = await acquire(paths, attach, since, say);
  if (!acquired.owner) {
    say(`daemon ${acquired.pid} runs already: attached ${attach.join(', ') || 'nothing'} there`);
    return;
  }
  say(
    `started for ${envPath}${inherited.length ? `; closed inherited descriptors ${inherited.join(', ')}` : ''}`,
  );
  const started = Date.now();

  let shuttingDown = false;
  // Set once serving (below); shutdown may come first.
  let socketTimer: NodeJS.Timeout | undefined = undefined;
  // Each attached shell with the time it was attached as of (see detached.ts).
  const attached = new Map<number, number>();
  const saveAttached = () => {
    try {
      writeAttached(paths, attached);
    } catch (error) {
      say(`cannot save attached shells: ${(error as Error).message}`);
    }
  };
  // Shells attached before the socket listens: one that leaves meanwhile cannot reach this daemon
  // yet, it only leaves a mark, read once the socket listens.
  const unheard = new Set<number>();
  // Shells a crashed predecessor had: those still alive and still in the environment stay.
  for (const [pid, asOf] of recordedShells(paths)) {
    attached.set(pid, asOf);
    unheard.add(pid);
  }
  // The shells this daemon was started for, unless they died or left before it got here (a
  // `blast kill` right after the start; a shell killed while its `blast start` ran).
  for (const pid of attach)
    if (attachable(paths, pid, since)) {
      attached.set(pid, Math.min(since, attached.get(pid) ?? since));
      unheard.add(pid);
    } else say(`not attaching ${pid}: it is gone or left the environment`);
  saveAttached();

  let store: Store;
  try {
    store = await Store.open(paths.db);
  } catch (error) {
    say(`state database ${paths.db} unreadable: ${(error as Error).message}`);
    await release(paths);
    process.exitCode = 1;
    return;
  }

  // Packages: compare with what the database last saw (changes made while no daemon ran).
  const dirs = sitePackagesDirs(envPath);
  let packages: Packages = scanPackages(dirs);
  let lastChange: ChangeRecord | undefined = (await store.history(1))[0];
  // The environment (or Blast's whole home) deleted under the daemon: nothing left to watch, and
  // nothing to write either (nedb would recreate the deleted directories).
  const envGone = () => !existsSync(join(envPath, 'pyvenv.cfg')) || !existsSync(paths.stateDir);
  let startupRecord = Promise.resolve();
  {
    const known = await store.current();
    const change = known ? diff(known, packages) : undefined;
    const record = await store.record(change, packages, true);
    if (record) {
      lastChange = record;
      say(`changed while no daemon ran: ${JSON.stringify(change)}`);
      // Only a real change (not the first look at a new environment) is worth a `blast record`.
      if (recordWith && change && !envGone())
        startupRecord = recordRevision(recordWith, envPath, 'outside', say);
    }
  }

  let diskBytes: number | null = null;
  let measuring: Promise<void> | undefined;
  let measureAgain = false;
  const measure = () => {
    if (measuring) {
      measureAgain = true;
      return;
    }
    measuring = diskUsage(envPath)
      .then((bytes) => {
        diskBytes = bytes;
      })
      .finally(() => {
        measuring = undefined;
        if (measureAgain) {
          measureAgain = false;
          measure();
        }
      });
  };
  measure();

  // Watching: every event restarts the debounce timer; when it fires, rescan and record.
  let settleTimer: NodeJS.Timeout | undefined;
  let recording = startupRecord;
  const settle = () => {
    settleTimer = undefined;
    if (envGone()) return void shutdown('the environment was removed');
    recording = recording.then(async () => {
      const now = scanPackages(dirs);
      const change = diff(packages, now);
      if (change) {
        try {
          const record = await store.record(change, now);
          packages = now;
          lastChange = record;
          say(`change #${record?.seq}: ${JSON.stringify(change)}`);
        } catch (error) {
          say(`cannot record a change: ${(error as Error).message}`);
        }
        if (recordWith) {
          recordPending = true;
          scheduleRecord();
        }
      }
      measure();
    });
  };
  // A change made around the shim (`python -m pip`, `uv pip`) becomes a revision too, once the
  // environment has been quiet for a while (one pip command pauses between distributions: one
  // revision, not one per distribution). While the core's pip transaction is journaled (its file
  // in the state dir both share), the change is the transaction's, which records it itself.
  let recordTimer: NodeJS.Timeout | undefined;
  let recordPending = false;
  const recordNow = () => {
    recordTimer = undefined;
    if (!recordPending || !recordWith || shuttingDown) return;
    recordPending = false;
    recording = recording.then(async () => {
      if (envGone() || existsSync(join(paths.stateDir, 'transaction.journal.json'))) return;
      await recordRevision(recordWith, envPath, 'watch', say);
    });
  };
  const scheduleRecord = () => {
    clearTimeout(recordTimer);
    recordTimer = setTimeout(recordNow, RECORD_QUIET_MS);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of [...dirs, join(envPath, 'bin')]) {
    try {
      const watcher = watch(dir, { persistent: true }, () => {
        if (shuttingDown) return;
        clearTimeout(settleTimer);
        settleTimer = setTimeout(settle, DEBOUNCE_MS);
        if (recordTimer) scheduleRecord(); // still changing: the revision waits for quiet
      });
      watcher.on('error', (error) => say(`watch ${dir}: ${error.message}`));
      watchers.push(watcher);
    } catch (error) {
      say(`cannot watch ${dir}: ${(error as Error).message}`);
    }
  }

  const status = () => {
    // The whole process's CPU time, start-up included: what `ps` and /proc/<pid>/stat report.
    const cpu = process.cpuUsage();
    return {
      pid: process.pid,
      env: envPath,
      attached: [...attached.keys()],
      uptimeMs: Date.now() - started,
      rss: process.memoryUsage.rss(),
      cpu: { userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) },
      packages: Object.keys(packages).length,
      diskBytes,
      lastChange: lastChange?.time ?? null,
      changes: lastChange?.seq ?? 0,
    };
  };

  const shutdown = async (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(shellTimer);
    clearTimeout(settleTimer);
    clearTimeout(recordTimer); // a pending revision is recorded by the next history read instead
    for (const w of watchers) w.close();
    say(`stopping: ${why}`);
    clearInterval(socketTimer);
    const closed = new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    // Clients still connected get what was written to them, then the end of the connection.
    for (const conn of connections.keys()) {
      conn.end();
      setTimeout(() => conn.destroy(), 1000).unref();
    }
    await closed;
    if (!envGone())
      try {
        await recording;
        // A change still settling is recorded before exit.
        const now = scanPackages(dirs);
        const change = diff(packages, now);
        await store.record(change, now);
        await store.setMeta({ lastExit: new Date().toISOString(), why, ...status() });
      } catch (error) {
        say(`cannot persist final state: ${(error as Error).message}`);
      }
    attached.clear();
    if (!envGone()) saveAttached();
    await release(paths);
    say('stopped');
    process.exit(0);
  };

  const handle = async (op: string, request: Record<string, unknown>): Promise<unknown> => {
    if (shuttingDown && op !== 'ping' && op !== 'status') throw new RequestError(SHUTTING_DOWN);
    switch (op) {
      case 'ping':
        return { pong: true, pid: process.pid };
      case 'status':
        return status();
      case 'attach': {
        const pid = pidArg(request);
        if (pid === 1) throw new RequestError('pid 1 is never a shell');
        if (!living(pid)) throw new RequestError(`no process ${pid}`);
        // As of when the caller attached it (a losing daemon hands over its shells late).
        const as = typeof request.since === 'number' ? request.since : undefined;
        if (as !== undefined && leftSince(paths, pid, as))
          throw new RequestError(`shell ${pid} left the environment since`);
        unheard.delete(pid);
        const was = attached.get(pid);
        // Attached again (a new start of that shell): as of the newer time.
        attached.set(pid, Math.max(was ?? 0, as ?? Date.now()));
        saveAttached();
        if (was === undefined) say(`attached ${pid}`);
        return { attached: [...attached.keys()] };
      }
      case 'detach': {
        const pid = pidArg(request);
        if (attached.delete(pid)) {
          saveAttached();
          say(`detached ${pid}`);
        }
        if (attached.size === 0) setImmediate(() => void shutdown('the last shell detached'));
        return { attached: [...attached.keys()] };
      }
      case 'shutdown':
        setImmediate(() => void shutdown('asked to'));
        return { stopping: true };
      case 'history': {
        const limit = request.limit === undefined ? 100 : request.limit;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000)
          throw new RequestError('limit must be an integer from 1 to 10000');
        await recording;
        return { changes: await store.history(limit) };
      }
      default:
        throw new RequestError(`unknown op ${JSON.stringify(op.slice(0, 50))}`);
    }
  };

  // Attached shells: gone ones are dropped; with none left, stop.
  const shellTimer = setInterval(() => {
    let changed = false;
    for (const pid of attached.keys())
      // A zombie shell (its parent has not reaped it yet) is gone too.
      if (!living(pid)) {
        attached.delete(pid);
        changed = true;
        say(`shell ${pid} is gone`);
      }
    if (changed) saveAttached();
    if (attached.size === 0) void shutdown('no shell attached');
    else if (envGone()) void shutdown('the environment was removed');
  }, SHELL_CHECK_MS);

  // Serving. The socket may be removed under us (a wiped runtime dir): it is bound again, so shells
  // and newcomers reach this daemon, the owner, which the pid file in the state dir still names.
  const connections = new Map<Socket, { lastActive: number; busy: () => boolean }>();
  const onConnection = (socket: Socket) => {
    if (connections.size >= MAX_CONNECTIONS) {
      let oldest: Socket | undefined;
      let oldestAt = Infinity;
      for (const [conn, c] of connections)
        if (!c.busy() && c.lastActive < oldestAt) {
          oldest = conn;
          oldestAt = c.lastActive;
        }
      if (!oldest) return void socket.destroy(); // every one of them is being served
      connections.delete(oldest);
      oldest.destroy();
    }
    const entry = { lastActive: Date.now(), busy: () => false };
    connections.set(socket, entry);
    socket.on('data', () => (entry.lastActive = Date.now()));
    socket.on('close', () => connections.delete(socket));
    entry.busy = serveConnection(socket, handle, IDLE_MS, say).busy;
  };
  let server: Server | undefined;
  let boundIno: number | undefined;
  const listen = async () => {
    // Closing a Unix socket server unlinks its path: the old one goes first, then the new binds.
    server?.close();
    ensureRunDir(paths.runDir);
    rmSync(paths.socket, { force: true }); // a dead predecessor's, or ours; we hold the lock
    const next = createServer(onConnection);
    const umask = process.umask(0o177); // the socket is created 0600
    try {
      await new Promise<void>((done, fail) => {
        next.once('error', fail);
        next.listen(paths.socket, () => {
          next.off('error', fail);
          done();
        });
      });
    } finally {
      process.umask(umask);
    }
    next.on('error', (error) => {
      say(`server: ${error.message}`);
      if (server === next) void shutdown('socket error');
    });
    server = next;
    boundIno = statSync(paths.socket).ino;
  };
  await testHold();
  await listen();
  say(`listening on ${paths.socket}; attached ${[...attached.keys()].join(', ') || 'nothing'}`);
  // A `blast kill` that came while this daemon was starting could not reach the socket: it left a
  // mark (detached.ts), read now that the socket listens (a later kill reaches it).
  for (const pid of unheard)
    if (leftSince(paths, pid, attached.get(pid) ?? 0) && attached.delete(pid)) {
      say(`shell ${pid} left the environment while the daemon started`);
      saveAttached();
    }
  unheard.clear();
  if (attached.size === 0) return void shutdown('no shell attached');

  let rebinding = false;
  socketTimer = setInterval(() => {
    if (shuttingDown || rebinding) return;
    const st = statSync(paths.socket, { throwIfNoEntry: false });
    if (st && st.ino === boundIno) return;
    rebinding = true;
    say(`socket ${paths.socket} ${st ? 'replaced' : 'removed'}: binding it again`);
    listen()
      .catch((error: unknown) => say(`cannot bind ${paths.socket} again: ${(error as Error).message}`))
      .finally(() => (rebinding = false));
  }, SOCKET_CHECK_MS);

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.on(signal, () => void shutdown(`signal ${signal}`));
}

main().catch((error: unknown) => {
  try {
    const paths = daemonPaths(resolve(process.argv[2] ?? '.'), process.env);
    new Log(paths.log).write(`fatal: ${(error as Error).stack ?? String(error)}`);
  } catch {
    // nowhere to report
  }
  process.exit(1);
});
