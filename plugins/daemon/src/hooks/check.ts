/**
 * `check`: is the daemon (one per user) running, stopped or stale, and per environment: is it
 * served, with which shells? Stale is a dead daemon whose socket and pid file are left behind, or
 * a hung one (the process is there, e.g. SIGSTOPped, but does not answer). `--fix` kills a hung
 * daemon (SIGKILL, and waits until it is gone: it must not write a state database next to a fresh
 * daemon), removes the leftovers and, when shells recorded as attached are still alive, starts a
 * fresh daemon for them: each environment's repair does its part, the first one does the rest.
 * Something that is not a socket at the socket path (a directory, a file) fails: --fix removes it.
 * A per-environment daemon of an older Blast still running is stopped by --fix (SIGTERM) and the
 * environment handed to the shared daemon. Also: each state database is readable.
 */
import type { Hook } from '@oclif/core';
import type { BlastContext, CheckResult, EnvInfo } from 'blast/contract';
import { existsSync, readFileSync } from 'node:fs';
import { request, waitGone } from '../client.js';
import {
  cpuSeconds,
  daemonState,
  envPlacesOf,
  killHung,
  memoryMiB,
  placesOf,
  removeLeftovers,
  removeSocketBlocker,
  socketBlocker,
  spawnDaemon,
  type DaemonState,
  type DaemonStatus,
  type EnvStart,
} from '../control.js';
import { recordedShells } from '../detached.js';
import { oldDaemonOf } from '../old-daemons.js';
import type { DaemonPlaces } from '../places.js';

/** Asks of a daemon that is slow to answer, each with this much time, before it counts as hung. */
const RETRIES = [1000, 2000, 3000];

/**
 * The daemon's state, asked again (with more time each go) while a living daemon is slow to
 * answer: a daemon that is busy, on a loaded machine, or binding its removed socket again is not
 * hung. Still silent after that, it is: stale, to be killed by --fix.
 */
async function settledState(paths: DaemonPlaces): Promise<Exclude<DaemonState, { state: 'slow' }>> {
  let state = await daemonState(paths);
  for (const timeout of RETRIES) {
    if (state.state !== 'slow') return state;
    state = await daemonState(paths, timeout);
  }
  if (state.state !== 'slow') return state;
  return {
    state: 'stale',
    pid: state.pid,
    why: `${state.why}, asked ${RETRIES.length + 1} times`,
    leftovers: [paths.socket, paths.pidFile].filter((f) => existsSync(f)),
    hung: true,
  };
}

function running(s: DaemonStatus, shells: number, packages: number): string {
  return (
    `running, pid ${s.pid}, ${shells} shell(s), ${memoryMiB(s).toFixed(1)} MiB, ` +
    `CPU ${cpuSeconds(s).toFixed(2)} s, ${packages} package(s)`
  );
}

/** The environments whose recorded shells are still active, to start a fresh daemon for. */
function activeEnvs(ctx: BlastContext, envs: EnvInfo[]): EnvStart[] {
  return envs
    .map((env) => {
      const places = envPlacesOf(ctx, env.path);
      return { path: env.path, state: places.stateDir, pids: [...recordedShells(places).keys()] };
    })
    .filter((e) => e.pids.length > 0);
}

/** An old per-environment daemon still running for `env`: --fix has the shared daemon take over. */
function oldDaemonCheck(ctx: BlastContext, env: EnvInfo): CheckResult | undefined {
  const places = envPlacesOf(ctx, env.path);
  const pid = oldDaemonOf(places);
  if (pid === undefined) return undefined;
  return {
    name: 'daemon',
    env: env.name,
    status: 'warn',
    message: `a per-environment daemon of an older Blast still runs for it (pid ${pid})`,
    fix: `stop it (SIGTERM; SIGKILL if it does not stop) and have the shared daemon serve ${env.name} and its shells`,
    repair: async () => {
      const daemon = placesOf(ctx);
      const served = await request(
        daemon.socket,
        'serve',
        { env: env.path, state: places.stateDir },
        2000,
      ).then(
        () => true,
        () => false,
      );
      // The daemon stops the old one before it serves the environment.
      if (!served) spawnDaemon(ctx, [{ path: env.path, state: places.stateDir, pids: [] }]);
      if (!(await waitGone(pid, 30_000))) throw new Error(`the old daemon pid ${pid} is still there`);
    },
  };
}

async function daemonChecks(ctx: BlastContext, envs: EnvInfo[]): Promise<CheckResult[]> {
  const places = placesOf(ctx);
  const blocker = socketBlocker(places);
  if (blocker) {
    // Only shells still in an environment: not one that left it (`blast kill`) unheard.
    const active = activeEnvs(ctx, envs);
    return [
      {
        name: 'daemon',
        status: 'fail',
        message: `${places.socket} is ${blocker}, not a socket: no daemon can listen there, so every daemon started exits at once`,
        fix: `remove it${active.length > 0 ? ', then start a fresh daemon for the active shells' : ''}`,
        repair: async () => {
          await removeSocketBlocker(places);
          // The daemon that died on it left its pid file: the fresh one takes over from it.
          if (active.length > 0) spawnDaemon(ctx, active);
        },
      },
    ];
  }
  const state = await settledState(places);
  if (state.state === 'stopped')
    return envs.map((env) => ({
      name: 'daemon',
      env: env.name,
      status: 'ok',
      message: 'stopped (no active shell)',
    }));
  if (state.state === 'running')
    return envs.map((env): CheckResult => {
      const mine = state.status?.envs.find((e) => e.env === env.path);
      const message = !state.status
        ? `starting, pid ${state.pid}`
        : mine
          ? running(state.status, mine.attached.length, mine.packages)
          : 'stopped (no active shell)';
      return { name: 'daemon', env: env.name, status: 'ok', message };
    });
  const steps = (shells: boolean) => [
    ...(state.hung ? [`kill the hung daemon (SIGKILL pid ${state.pid})`] : []),
    'remove the stale socket and pid file',
    ...(shells ? ['start a fresh daemon for the active shells'] : []),
  ];
  // Each environment's repair: idempotent, so the first one does the work and the others find it done.
  const repair = (start: EnvStart[]) => async () => {
    if (state.hung && state.pid !== null) {
      // Answering now after all (it was only slow, or a fresh daemon runs): nothing to kill.
      const answers = await request(places.socket, 'ping', {}, 2000).then(
        (r) => (r as { pid?: number }).pid,
        () => undefined,
      );
      if (answers === undefined) await killHung(state.pid);
      else if (answers !== state.pid) return void (start.length && spawnDaemon(ctx, start));
      else return;
    }
    await removeLeftovers(places, state.pid);
    if (start.length > 0) spawnDaemon(ctx, start);
  };
  const results: CheckResult[] = [];
  const idle: EnvInfo[] = [];
  for (const env of envs) {
    const [active] = activeEnvs(ctx, [env]);
    if (!active) {
      idle.push(env);
      continue;
    }
    results.push({
      name: 'daemon',
      env: env.name,
      status: 'fail',
      message: `stale: ${state.why}; left behind ${state.leftovers.join(', ')}; shell(s) ${active.pids.join(', ')} still active`,
      fix: steps(true).join(', '),
      repair: repair([active]),
    });
  }
  // No shell active anywhere: the leftovers go, nothing is started. A hung daemon holds them all.
  if (results.length === 0)
    results.push({
      name: 'daemon',
      ...(idle.length === 1 ? { env: idle[0]!.name } : {}),
      status: state.hung ? 'fail' : 'warn',
      message: `stale: ${state.why}; left behind ${state.leftovers.join(', ')}`,
      fix: steps(false).join(', '),
      repair: repair([]),
    });
  return results;
}

/**
 * Reads the database file without loading it through nedb (whose load rewrites the file, and the
 * daemon is its only writer): every line must be a JSON document.
 */
function databaseCheck(ctx: BlastContext, env: EnvInfo): CheckResult | undefined {
  const { db } = envPlacesOf(ctx, env.path);
  if (!existsSync(db)) return undefined;
  const base = { name: 'daemon state database', env: env.name };
  let text: string;
  try {
    text = readFileSync(db, 'utf8');
  } catch (error) {
    return { ...base, status: 'fail', message: `${db}: ${(error as Error).message}` };
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let bad = 0;
  for (const line of lines) {
    try {
      JSON.parse(line);
    } catch {
      bad++;
    }
  }
  if (bad === 0) return { ...base, status: 'ok', message: `${lines.length} record(s) readable` };
  return {
    ...base,
    status: bad * 10 > lines.length ? 'fail' : 'warn',
    message: `${bad} of ${lines.length} line(s) of ${db} unreadable`,
  };
}

const hook: Hook<'check'> = async function ({ envs, ctx }) {
  const old = envs.map((env) => oldDaemonCheck(ctx, env)).filter((r): r is CheckResult => r !== undefined);
  const results = [...(await daemonChecks(ctx, envs)), ...old];
  for (const env of envs) {
    const db = databaseCheck(ctx, env);
    if (db) results.push(db);
  }
  return results;
};

export default hook;
