/**
 * The daemon: one per user (per Blast home), serving every active environment. Started detached
 * by the plugin's hooks as
 *
 *   node main.js --state-dir S --runtime-dir R [--cli JSON] [--since MS]
 *                [--env PATH --env-state DIR [--attach PID]...]...
 *
 * with every directory given by the core (the hooks' `ctx`), never computed here; `--cli` is how
 * to run Blast (`ctx.cli`), for `blast record`.
 *
 * It owns every environment's state database (see lock.ts: one daemon per user), serves the socket
 * (protocol.ts; bound again when someone removes it), keeps the shells attached to each
 * environment (a shell is in one environment at a time; checked every few seconds with
 * kill(pid, 0)), watches each served environment's site-packages (fs.watch on the directory itself,
 * debounced: no per-file state) and records every settled change in that environment's database
 * (store.ts), then has the core record a revision (`blast record`). An environment is served while
 * a shell has it active; the daemon exits when no shell has any environment active.
 *
 * Environments do not wait for each other: each has its own queues (its scans, its `blast record`
 * runs, which are child processes), so one environment whose recording hangs holds up nothing of
 * another's. The daemon's only blocking work is reading directory names and METADATA heads.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { living, request, SHUTTING_DOWN } from '../client.js';
import { attachable, leftSince, recordedShells, writeAttached } from '../detached.js';
import { oldDaemonOf, stopOldDaemon } from '../old-daemons.js';
import { daemonPlaces, envPlaces, type DaemonPlaces, type EnvPlaces } from '../places.js';
import { closeInheritedDescriptors } from './fds.js';
import { acquire, release } from './lock.js';
import { ensureRunDir } from '../run-dir.js';
import { Log } from './log.js';
import { diff, scanPackages, sitePackagesDirs, type Packages } from './packages.js';
import { pidArg, RequestError, serveConnection } from './protocol.js';
import type { RecordResult } from 'blast/contract';
import type { ChangeRecord, Store } from './store.js';

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
/** How long stopping waits for an environment's work in flight (a `blast record`) before going on. */
const STOP_WAIT_MS = 5000;

interface EnvRequest {
  path: string;
  state: string;
  pids: number[];
}

interface Args {
  stateDir: string;
  runtimeDir: string;
  cli?: string[];
  since: number;
  envs: EnvRequest[];
}

const USAGE =
  'usage: main.js --state-dir DIR --runtime-dir DIR [--cli JSON] [--since MS] [--env PATH --env-state DIR [--attach PID]...]...';

function parseArgs(argv: string[]): Args {
  let stateDir: string | undefined;
  let runtimeDir: string | undefined;
  let cli: string[] | undefined;
  // Without --since: as of now (a shell that left before this daemon ran stays out).
  let since = Date.now();
  const envs: EnvRequest[] = [];
  for (let i = 0; i < argv.length; i++) {
    const value = argv[++i];
    switch (argv[i - 1]) {
      case '--state-dir':
        stateDir = value;
        break;
      case '--runtime-dir':
        runtimeDir = value;
        break;
      case '--cli': {
        const parsed = JSON.parse(value ?? '') as unknown;
        if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((a) => typeof a === 'string'))
          cli = parsed as string[];
        break;
      }
      case '--since': {
        const ms = Number(value);
        if (Number.isFinite(ms) && ms > 0) since = ms;
        break;
      }
      case '--env':
        if (value) envs.push({ path: value, state: '', pids: [] });
        break;
      case '--env-state':
        if (envs.length && value) envs[envs.length - 1]!.state = value;
        break;
      case '--attach': {
        const pid = Number(value);
        if (envs.length && Number.isInteger(pid) && pid > 1) envs[envs.length - 1]!.pids.push(pid);
        break;
      }
      default:
        throw new Error(USAGE);
    }
  }
  // Its cwd is /: a relative directory would put the state under / (the CLI passes them absolute).
  const absolute = (p: string | undefined) => p !== undefined && isAbsolute(p);
  if (!absolute(stateDir) || !absolute(runtimeDir)) throw new Error(USAGE);
  return {
    stateDir: stateDir!,
    runtimeDir: runtimeDir!,
    cli,
    since,
    envs: envs.filter((e) => absolute(e.path) && absolute(e.state)),
  };
}

/** An environment the daemon serves. */
interface Served {
  places: EnvPlaces;
  /** Each attached shell with the time it was attached as of (see detached.ts). */
  attached: Map<number, number>;
  /** Shells attached before the socket listens (a `blast kill` meanwhile only leaves a mark). */
  unheard: Set<number>;
  /** Opening: an old per-environment daemon stopped, the database loaded, the first scan. */
  ready: Promise<void>;
  store?: Store;
  packages: Packages;
  lastChange?: ChangeRecord;
  watchers: FSWatcher[];
  settleTimer?: NodeJS.Timeout;
  recordTimer?: NodeJS.Timeout;
  recordPending: boolean;
  /** This environment's own queues: scans (fast) and `blast record` runs (a child process each). */
  scans: Promise<void>;
  records: Promise<void>;
  /** Set while it is being retired; resolves once it is. */
  closed?: Promise<void>;
  /** The first scan is done: a change seen by the watchers is settled from here on. */
  scanned?: boolean;
  /** The watchers saw a change before the first scan was done: settled right after it. */
  changedEarly?: boolean;
}

async function main(): Promise<void> {
  const inherited = closeInheritedDescriptors();
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch {
    process.exitCode = 2;
    return;
  }
  const places: DaemonPlaces = daemonPlaces(args);
  mkdirSync(places.dir, { recursive: true, mode: 0o700 });
  const log = new Log(places.log);
  const say = (m: string) => log.write(m);
  const sayFor = (s: Served, m: string) => log.write(`${s.places.path}: ${m}`);
  const cli = args.cli;

  const acquired = await acquire(
    places,
    async (refused) => {
      const ask = (op: string, body: Record<string, unknown>) =>
        request(places.socket, op, body, 2000).catch((error: unknown) => {
          if (!refused(error)) throw error;
        });
      await ask('ping', {});
      for (const e of args.envs) {
        const env = { env: e.path, state: e.state };
        if (e.pids.length === 0) await ask('serve', env);
        for (const pid of e.pids) await ask('attach', { ...env, pid, since: args.since });
      }
    },
    say,
  );
  if (!acquired.owner) {
    say(
      `daemon ${acquired.pid} runs already: handed ${args.envs.map((e) => e.path).join(', ') || 'nothing'} over`,
    );
    return;
  }
  say(
    `started (pid ${process.pid})${inherited.length ? `; closed inherited descriptors ${inherited.join(', ')}` : ''}`,
  );
  const started = Date.now();
  let shuttingDown = false;
  let listening = false;
  const served = new Map<string, Served>();

  const homeGone = () => !existsSync(places.dir);
  const envGone = (s: Served) =>
    !existsSync(join(s.places.path, 'pyvenv.cfg')) || !existsSync(s.places.stateDir);

  /** The served environments, so that a daemon started after a crash serves them again. */
  const saveEnvs = () => {
    if (homeGone()) return;
    try {
      const tmp = `${places.envs}.${process.pid}.tmp`;
      const list = [...served.values()].map((s) => ({ path: s.places.path, state: s.places.stateDir }));
      writeFileSync(tmp, JSON.stringify(list), { mode: 0o600 });
      renameSync(tmp, places.envs);
    } catch (error) {
      say(`cannot save the served environments: ${(error as Error).message}`);
    }
  };
  const saveAttached = (s: Served) => {
    if (envGone(s)) return;
    try {
      writeAttached(s.places, s.attached);
    } catch (error) {
      sayFor(s, `cannot save attached shells: ${(error as Error).message}`);
    }
  };
  const shellCount = () => [...served.values()].reduce((n, s) => n + s.attached.size, 0);

  /** `blast record` for one environment, through the core's own command line (ctx.cli). */
  const recordRevision = (s: Served, source: string): Promise<void> =>
    new Promise((done) => {
      if (!cli) return done();
      execFile(
        cli[0]!,
        [...cli.slice(1), 'record', '--path', s.places.path, '--source', source, '--json'],
        { env: process.env, timeout: 120_000, cwd: '/' },
        (error, stdout, stderr) => {
          if (error) sayFor(s, `blast record failed: ${(stderr || error.message).trim().split('\n')[0]}`);
          else {
            try {
              const n = (JSON.parse(stdout) as RecordResult).recorded?.n;
              if (n !== undefined) sayFor(s, `recorded revision ${n} (${source})`);
            } catch {
              // nothing to log
            }
          }
          done();
        },
      );
    });

  // A change made around the shim (`python -m pip`, `uv pip`) becomes a revision too, once the
  // environment has been quiet for a while (one pip command pauses between distributions: one
  // revision, not one per distribution). While a pip transaction runs, `blast record` records
  // nothing (the transaction records its own).
  const scheduleRecord = (s: Served) => {
    clearTimeout(s.recordTimer);
    s.recordTimer = setTimeout(() => {
      s.recordTimer = undefined;
      if (!s.recordPending || shuttingDown || s.closed) return;
      s.recordPending = false;
      s.records = s.records.then(() => (envGone(s) ? undefined : recordRevision(s, 'watch')));
    }, RECORD_QUIET_MS);
  };

  const settle = (s: Served) => {
    s.settleTimer = undefined;
    if (s.closed || shuttingDown) return;
    if (envGone(s)) return void retire(s, 'the environment was removed');
    s.scans = s.scans.then(async () => {
      if (!s.store) return;
      const now = scanPackages(sitePackagesDirs(s.places.path));
      const change = diff(s.packages, now);
      if (!change) return;
      try {
        const record = await s.store.record(change, now);
        s.packages = now;
        s.lastChange = record;
        sayFor(s, `change #${record?.seq}: ${JSON.stringify(change)}`);
      } catch (error) {
        sayFor(s, `cannot record a change: ${(error as Error).message}`);
      }
      if (cli) {
        s.recordPending = true;
        scheduleRecord(s);
      }
    });
  };

  /** Opens a served environment: stops an old per-environment daemon first, then loads and watches. */
  const open = async (s: Served): Promise<void> => {
    const dirs = sitePackagesDirs(s.places.path);
    // Watched before anything is read (the database, the first scan): a change made meanwhile (a
    // pip install right after `blast start`) is seen, and settled once the first scan is done.
    // The directory itself, not every file under it: a 50,000-file environment costs two watches.
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: true }, () => {
          if (shuttingDown || s.closed) return;
          if (!s.scanned) {
            s.changedEarly = true;
            return;
          }
          clearTimeout(s.settleTimer);
          s.settleTimer = setTimeout(() => settle(s), DEBOUNCE_MS);
          if (s.recordTimer) scheduleRecord(s); // still changing: the revision waits for quiet
        });
        watcher.on('error', (error) => sayFor(s, `watch ${dir}: ${error.message}`));
        s.watchers.push(watcher);
      } catch (error) {
        sayFor(s, `cannot watch ${dir}: ${(error as Error).message}`);
      }
    }
    await testHold('BLAST_DAEMON_TEST_HOLD_OPEN');
    const old = oldDaemonOf(s.places);
    if (old !== undefined) {
      // Its shells, read before it stops (it empties attached.json when it does).
      const shells = recordedShells(s.places);
      sayFor(s, `stopping the per-environment daemon ${old} of an older Blast`);
      await stopOldDaemon(old, s.places, places.runDir);
      for (const [pid, asOf] of shells) if (!s.closed) addShell(s, pid, asOf, false);
      saveAttached(s);
    }
    if (s.closed || envGone(s)) return;
    try {
      const { Store } = await import('./store.js');
      s.store = await Store.open(s.places.db);
    } catch (error) {
      sayFor(s, `state database ${s.places.db} unreadable: ${(error as Error).message}`);
      return;
    }
    // Packages: compare with what the database last saw (changes made while no daemon ran).
    s.packages = scanPackages(dirs);
    s.lastChange = (await s.store.history(1))[0];
    const known = await s.store.current();
    const change = known ? diff(known, s.packages) : undefined;
    const record = await s.store.record(change, s.packages, true);
    let recording = false;
    if (record) {
      s.lastChange = record;
      sayFor(s, `changed while no daemon ran: ${JSON.stringify(change)}`);
      // Only a real change (not the first look at a new environment) is worth a `blast record`.
      // Seen by the watchers while the daemon opened (a pip install right after start): watched.
      const source = s.changedEarly ? 'watch' : 'outside';
      recording = change !== undefined && !envGone(s);
      if (recording) s.records = s.records.then(() => recordRevision(s, source));
    }
    if (s.closed) return;
    s.scanned = true;
    if (s.changedEarly) {
      s.settleTimer = setTimeout(() => settle(s), DEBOUNCE_MS);
      // The first look at a new environment has nothing to compare with, so a change the watchers
      // saw while it was read is in that look and in no diff. `blast record` compares with the
      // core's newest revision instead (and records nothing when they are the same).
      if (!recording && cli) {
        s.recordPending = true;
        scheduleRecord(s);
      }
    }
    sayFor(s, `serving; attached ${[...s.attached.keys()].join(', ') || 'nothing'}`);
  };

  /** Starts serving an environment (its recorded shells that are still in it come back). */
  const serve = (env: { path: string; state: string }): Served => {
    const existing = served.get(env.path);
    if (existing) return existing;
    const s: Served = {
      places: envPlaces(env.path, env.state),
      attached: new Map(),
      unheard: new Set(),
      ready: Promise.resolve(),
      packages: {},
      watchers: [],
      recordPending: false,
      scans: Promise.resolve(),
      records: Promise.resolve(),
    };
    served.set(env.path, s);
    try {
      mkdirSync(s.places.stateDir, { recursive: true, mode: 0o700 });
    } catch {
      // a state dir that cannot be made: nothing is written there
    }
    // Shells a crashed predecessor had here: those still alive and still in the environment stay.
    for (const [pid, asOf] of recordedShells(s.places)) addShell(s, pid, asOf, !listening);
    saveEnvs();
    s.ready = open(s).catch((error: unknown) => sayFor(s, `cannot serve: ${(error as Error).message}`));
    return s;
  };

  /** Attaches a shell; a shell is in one environment at a time, so it leaves any other one. */
  function addShell(s: Served, pid: number, asOf: number, unheard: boolean): void {
    for (const other of served.values())
      if (other !== s && other.attached.has(pid)) {
        // The later attachment wins (a crash can leave a shell in two environments' records).
        if ((other.attached.get(pid) ?? 0) > asOf) return;
        other.attached.delete(pid);
        saveAttached(other);
        sayFor(other, `shell ${pid} went to ${s.places.path}`);
        if (other.attached.size === 0 && listening) void retire(other, 'its last shell went elsewhere');
      }
    const was = s.attached.get(pid);
    s.attached.set(pid, Math.max(was ?? 0, asOf));
    if (unheard) s.unheard.add(pid);
    if (was === undefined) sayFor(s, `attached ${pid}`);
  }

  const envStatus = (s: Served) => ({
    env: s.places.path,
    attached: [...s.attached.keys()],
    packages: Object.keys(s.packages).length,
    lastChange: s.lastChange?.time ?? null,
    changes: s.lastChange?.seq ?? 0,
  });
  const daemonStatus = () => {
    // The whole process's CPU time, start-up included: what `ps` and /proc/<pid>/stat report.
    const cpu = process.cpuUsage();
    return {
      pid: process.pid,
      uptimeMs: Date.now() - started,
      rss: process.memoryUsage.rss(),
      cpu: { userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) },
    };
  };

  /**
   * Stops serving an environment: its watchers close, its final state is recorded (the `meta`
   * record of its database), and it has no attached shell any more.
   */
  function retire(s: Served, why: string): Promise<void> {
    if (s.closed) return s.closed;
    s.closed = (async () => {
      clearTimeout(s.settleTimer);
      clearTimeout(s.recordTimer); // a pending revision is recorded by the next history read instead
      for (const w of s.watchers) w.close();
      sayFor(s, `no longer served: ${why}`);
      await Promise.race([s.ready, sleep(STOP_WAIT_MS)]);
      if (!envGone(s) && s.store)
        try {
          await Promise.race([s.scans, sleep(STOP_WAIT_MS)]);
          // A change still settling is recorded before it goes.
          const now = scanPackages(sitePackagesDirs(s.places.path));
          await s.store.record(diff(s.packages, now), now);
          s.packages = now;
          s.attached.clear();
          await s.store.setMeta({
            lastExit: new Date().toISOString(),
            why,
            ...daemonStatus(),
            ...envStatus(s),
          });
        } catch (error) {
          sayFor(s, `cannot persist final state: ${(error as Error).message}`);
        }
      s.attached.clear();
      saveAttached(s);
      // Its database leaves memory with it; a `blast record` still running finishes on its own.
      s.store = undefined;
      if (served.get(s.places.path) === s) served.delete(s.places.path);
      if (!shuttingDown) saveEnvs();
      if (!shuttingDown && listening && shellCount() === 0) void shutdown('no shell attached');
    })();
    return s.closed;
  }

  async function shutdown(why: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(tick);
    say(`stopping: ${why}`);
    const closed = new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    // Clients still connected get what was written to them, then the end of the connection.
    for (const conn of connections.keys()) {
      conn.end();
      setTimeout(() => conn.destroy(), 1000).unref();
    }
    await closed;
    await Promise.all([...served.values()].map((s) => retire(s, why)));
    await release(places);
    say('stopped');
    process.exit(0);
  }

  const envArg = (request: Record<string, unknown>): { path: string; state: string } => {
    const { env, state } = request;
    if (typeof env !== 'string' || !isAbsolute(env)) throw new RequestError('env must be an absolute path');
    if (state !== undefined && (typeof state !== 'string' || !isAbsolute(state)))
      throw new RequestError('state must be an absolute path');
    return { path: env, state: (state as string | undefined) ?? '' };
  };
  /** The served environment a request names. */
  const servedArg = (request: Record<string, unknown>): Served => {
    const { path } = envArg(request);
    const s = served.get(path);
    if (!s || s.closed) throw new RequestError(`not serving ${path}`);
    return s;
  };
  /** Serves an environment, after it finished retiring if it was (a shell came back meanwhile). */
  const serveAgain = async (env: { path: string; state: string }): Promise<Served> => {
    const s = served.get(env.path);
    if (s?.closed) await s.closed;
    if (!env.state) {
      const known = served.get(env.path);
      if (known) return known;
      throw new RequestError('state (the environment state dir) is needed to serve a new environment');
    }
    return serve(env);
  };

  const handle = async (op: string, request: Record<string, unknown>): Promise<unknown> => {
    if (shuttingDown && op !== 'ping' && op !== 'status') throw new RequestError(SHUTTING_DOWN);
    switch (op) {
      case 'ping':
        return { pong: true, pid: process.pid };
      case 'status': {
        if (request.env === undefined)
          return { ...daemonStatus(), envs: [...served.values()].filter((s) => !s.closed).map(envStatus) };
        const s = servedArg(request);
        await s.ready; // its figures once it is open; other environments' requests do not wait
        return { ...daemonStatus(), ...envStatus(s) };
      }
      case 'serve': {
        const s = await serveAgain(envArg(request));
        // Nothing attached once it is open (an old daemon's shells are adopted while it opens): done.
        void s.ready.then(() => {
          if (s.attached.size === 0) void retire(s, 'no shell attached');
        });
        return { attached: [...s.attached.keys()] };
      }
      case 'attach': {
        const pid = pidArg(request);
        if (pid === 1) throw new RequestError('pid 1 is never a shell');
        const env = envArg(request);
        if (!living(pid)) throw new RequestError(`no process ${pid}`);
        // As of when the caller attached it (a losing daemon hands over its shells late).
        const as = typeof request.since === 'number' ? request.since : undefined;
        const places = env.state ? envPlaces(env.path, env.state) : served.get(env.path)?.places;
        if (as !== undefined && places && leftSince(places, pid, as))
          throw new RequestError(`shell ${pid} left the environment since`);
        const s = await serveAgain(env);
        s.unheard.delete(pid);
        // Attached again (a new start of that shell): as of the newer time.
        addShell(s, pid, as ?? Date.now(), false);
        saveAttached(s);
        return { attached: [...s.attached.keys()] };
      }
      case 'detach': {
        const pid = pidArg(request);
        const s = served.get(envArg(request).path);
        if (!s || s.closed) return { attached: [] };
        if (s.attached.delete(pid)) {
          saveAttached(s);
          sayFor(s, `detached ${pid}`);
        }
        if (shellCount() === 0) setImmediate(() => void shutdown('the last shell detached'));
        else if (s.attached.size === 0) void retire(s, 'the last shell detached');
        return { attached: [...s.attached.keys()] };
      }
      case 'shutdown':
        setImmediate(() => void shutdown('asked to'));
        return { stopping: true };
      case 'history': {
        const limit = request.limit === undefined ? 100 : request.limit;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000)
          throw new RequestError('limit must be an integer from 1 to 10000');
        const s = servedArg(request);
        await s.ready;
        await s.scans;
        return { changes: s.store ? await s.store.history(limit) : [] };
      }
      default:
        throw new RequestError(`unknown op ${JSON.stringify(op.slice(0, 50))}`);
    }
  };

  // Shells a crashed predecessor served, in every environment it served; then the ones asked for.
  let recovered: unknown = [];
  try {
    recovered = JSON.parse(readFileSync(places.envs, 'utf8'));
  } catch {
    // none
  }
  if (Array.isArray(recovered))
    for (const e of recovered as Array<{ path?: unknown; state?: unknown }>)
      if (
        typeof e?.path === 'string' &&
        typeof e.state === 'string' &&
        isAbsolute(e.path) &&
        isAbsolute(e.state)
      )
        if (recordedShells(envPlaces(e.path, e.state)).size > 0) serve({ path: e.path, state: e.state });
  for (const e of args.envs) {
    const s = serve(e);
    // The shells this daemon was started for, unless they died or left before it got here (a
    // `blast kill` right after the start; a shell killed while its `blast start` ran).
    for (const pid of e.pids)
      if (attachable(s.places, pid, args.since))
        addShell(s, pid, Math.min(args.since, s.attached.get(pid) ?? args.since), true);
      else sayFor(s, `not attaching ${pid}: it is gone or left the environment`);
    saveAttached(s);
  }

  // Attached shells: gone ones are dropped; an environment with none left is no longer served,
  // and with none left anywhere the daemon stops. The socket is checked on the same tick.
  const checkShells = () => {
    for (const s of served.values()) {
      if (s.closed) continue;
      let changed = false;
      for (const pid of s.attached.keys())
        // A zombie shell (its parent has not reaped it yet) is gone too.
        if (!living(pid)) {
          s.attached.delete(pid);
          changed = true;
          sayFor(s, `shell ${pid} is gone`);
        }
      if (changed) saveAttached(s);
      if (envGone(s)) void retire(s, 'the environment was removed');
      else if (s.attached.size === 0) void retire(s, 'no shell attached');
    }
    if (shellCount() === 0) void shutdown('no shell attached');
  };

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
    ensureRunDir(places.runDir);
    rmSync(places.socket, { force: true }); // a dead predecessor's, or ours; we hold the lock
    const next = createServer(onConnection);
    const umask = process.umask(0o177); // the socket is created 0600
    try {
      await new Promise<void>((done, fail) => {
        next.once('error', fail);
        next.listen(places.socket, () => {
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
    boundIno = statSync(places.socket).ino;
  };
  await testHold();
  await listen();
  listening = true;
  say(`listening on ${places.socket}; serving ${[...served.keys()].join(', ') || 'nothing'}`);
  // A `blast kill` that came while this daemon was starting could not reach the socket: it left a
  // mark (detached.ts), read now that the socket listens (a later kill reaches it).
  for (const s of served.values()) {
    for (const pid of s.unheard)
      if (leftSince(s.places, pid, s.attached.get(pid) ?? 0) && s.attached.delete(pid)) {
        sayFor(s, `shell ${pid} left the environment while the daemon started`);
        saveAttached(s);
      }
    s.unheard.clear();
    if (s.attached.size === 0) void retire(s, 'no shell attached');
  }
  if (shellCount() === 0) return void shutdown('no shell attached');

  let rebinding = false;
  const checkSocket = () => {
    if (shuttingDown || rebinding) return;
    const st = statSync(places.socket, { throwIfNoEntry: false });
    if (st && st.ino === boundIno) return;
    rebinding = true;
    say(`socket ${places.socket} ${st ? 'replaced' : 'removed'}: binding it again`);
    listen()
      .catch((error: unknown) => say(`cannot bind ${places.socket} again: ${(error as Error).message}`))
      .finally(() => (rebinding = false));
  };
  // One timer for the whole daemon, however many environments: a few kill(pid, 0) and one stat.
  const period = Math.min(SHELL_CHECK_MS, SOCKET_CHECK_MS);
  let ticks = 0;
  const every = Math.max(1, Math.round(SHELL_CHECK_MS / period));
  const socketEvery = Math.max(1, Math.round(SOCKET_CHECK_MS / period));
  const tick = setInterval(() => {
    ticks++;
    if (ticks % socketEvery === 0) checkSocket();
    if (ticks % every === 0) checkShells();
  }, period);

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.on(signal, () => void shutdown(`signal ${signal}`));
}

/**
 * Test-only holds, so tests can act while a daemon is young: `BLAST_DAEMON_TEST_HOLD=<file>` keeps
 * a starting daemon from binding its socket, `BLAST_DAEMON_TEST_HOLD_OPEN=<file>` keeps it between
 * watching a served environment and reading it, each while the file exists (two minutes at most).
 * A held daemon writes its pid into the file, so a test knows it got there.
 */
async function testHold(variable = 'BLAST_DAEMON_TEST_HOLD'): Promise<void> {
  const file = process.env[variable];
  if (!file) return;
  try {
    writeFileSync(file, String(process.pid), { flag: 'r+' }); // never creates it again once removed
  } catch {
    return;
  }
  const deadline = Date.now() + 120_000;
  while (existsSync(file) && Date.now() < deadline) await sleep(20);
}

main().catch((error: unknown) => {
  try {
    const args = parseArgs(process.argv.slice(2));
    new Log(daemonPlaces(args).log).write(`fatal: ${(error as Error).stack ?? String(error)}`);
  } catch {
    // nowhere to report
  }
  process.exit(1);
});
