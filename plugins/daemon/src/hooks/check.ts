/**
 * `check`: per environment, is its daemon running, stopped or stale? Stale is a dead daemon whose
 * socket and pid file are left behind, or a hung one (the process is there, e.g. SIGSTOPped, but
 * does not answer). `--fix` kills a hung daemon (SIGKILL, and waits until it is gone: it must not
 * write the state database next to a fresh daemon), removes the leftovers and, when shells
 * recorded as attached are still alive, starts a fresh daemon for them. Something that is not a
 * socket at the socket path (a directory, a file) fails: --fix removes it. Also: the state
 * database is readable.
 */
import type { Hook } from '@oclif/core';
import type { CheckResult, EnvInfo } from 'blast/contract';
import { existsSync, readFileSync } from 'node:fs';
import { request } from '../client.js';
import {
  coreBin,
  cpuSeconds,
  daemonState,
  killHung,
  memoryMiB,
  removeLeftovers,
  removeSocketBlocker,
  socketBlocker,
  spawnDaemon,
  type DaemonState,
  type Status,
} from '../control.js';
import { recordedShells } from '../detached.js';
import { daemonPaths, type DaemonPaths } from '../paths.js';

/** Asks of a daemon that is slow to answer, each with this much time, before it counts as hung. */
const RETRIES = [1000, 2000, 3000];

/**
 * The daemon's state, asked again (with more time each go) while a living daemon is slow to
 * answer: a daemon that is busy, on a loaded machine, or binding its removed socket again is not
 * hung. Still silent after that, it is: stale, to be killed by --fix.
 */
async function settledState(paths: DaemonPaths): Promise<Exclude<DaemonState, { state: 'slow' }>> {
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

function running(s: Status): string {
  return (
    `running, pid ${s.pid}, ${s.attached.length} shell(s), ${memoryMiB(s).toFixed(1)} MiB, ` +
    `CPU ${cpuSeconds(s).toFixed(2)} s, ${s.packages} package(s)`
  );
}

async function daemonCheck(env: EnvInfo, recordWith: string): Promise<CheckResult> {
  const paths = daemonPaths(env.path, process.env);
  const base = { name: 'daemon', env: env.name };
  const blocker = socketBlocker(paths);
  if (blocker) {
    // Only shells still in the environment: not one that left it (`blast kill`) unheard.
    const shells = [...recordedShells(paths).keys()];
    return {
      ...base,
      status: 'fail',
      message: `${paths.socket} is ${blocker}, not a socket: no daemon can listen there, so every daemon started for ${env.name} exits at once`,
      fix: `remove it${shells.length > 0 ? ', then start a fresh daemon for the active shells' : ''}`,
      repair: async () => {
        await removeSocketBlocker(paths);
        // The daemon that died on it left its pid file: the fresh one takes over from it.
        if (shells.length > 0) spawnDaemon(env.path, shells, process.env, recordWith);
      },
    };
  }
  const state = await settledState(paths);
  if (state.state === 'stopped') return { ...base, status: 'ok', message: 'stopped (no active shell)' };
  if (state.state === 'running') {
    const message = state.status ? running(state.status) : `starting, pid ${state.pid}`;
    return { ...base, status: 'ok', message };
  }
  // Only shells still in the environment: not one that left it (`blast kill`) unheard.
  const shells = [...recordedShells(paths).keys()];
  const steps = [
    ...(state.hung ? [`kill the hung daemon (SIGKILL pid ${state.pid})`] : []),
    'remove the stale socket and pid file',
    ...(shells.length > 0 ? ['start a fresh daemon for the active shells'] : []),
  ];
  return {
    ...base,
    // A hung daemon does not go away by itself, and holds the environment.
    status: shells.length > 0 || state.hung ? 'fail' : 'warn',
    message:
      `stale: ${state.why}; left behind ${state.leftovers.join(', ')}` +
      (shells.length > 0 ? `; shell(s) ${shells.join(', ')} still active` : ''),
    fix: steps.join(', '),
    repair: async () => {
      if (state.hung && state.pid !== null) {
        // Answering now after all (it was only slow): nothing to repair, and nothing to kill.
        const answers = await request(paths.socket, 'ping', {}, 2000).then(
          () => true,
          () => false,
        );
        if (answers) return;
        await killHung(state.pid);
      }
      await removeLeftovers(paths, state.pid);
      if (shells.length > 0) spawnDaemon(env.path, shells, process.env, recordWith);
    },
  };
}

/**
 * Reads the database file without loading it through nedb (whose load rewrites the file, and the
 * daemon is its only writer): every line must be a JSON document.
 */
function databaseCheck(env: EnvInfo): CheckResult | undefined {
  const { db } = daemonPaths(env.path, process.env);
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

const hook: Hook<'check'> = async function ({ envs }) {
  const recordWith = coreBin(this.config.root);
  const results = await Promise.all(envs.map((env) => daemonCheck(env, recordWith)));
  for (const env of envs) {
    const db = databaseCheck(env);
    if (db) results.push(db);
  }
  return results;
};

export default hook;
