/**
 * `check`: per environment, is its daemon running, stopped or stale (dead, its socket and pid file
 * left behind)? Stale is repaired by removing the leftovers and, when shells recorded as attached
 * are still alive, starting a fresh daemon for them. Also: the state database is readable.
 */
import type { Hook } from '@oclif/core';
import type { CheckResult, EnvInfo } from 'blast/hooks';
import { existsSync, readFileSync } from 'node:fs';
import { alive } from '../client.js';
import { coreBin, daemonState, recordedAttached, removeLeftovers, spawnDaemon } from '../control.js';
import { daemonPaths } from '../paths.js';

async function daemonCheck(env: EnvInfo, recordWith: string): Promise<CheckResult> {
  const paths = daemonPaths(env.path, process.env);
  const state = await daemonState(paths);
  const base = { name: 'daemon', env: env.name };
  if (state.state === 'stopped') return { ...base, status: 'ok', message: 'not running (no active shell)' };
  if (state.state === 'running') {
    const s = state.status;
    const message = s
      ? `running, pid ${s.pid}, ${s.attached.length} shell(s), ${Math.round(s.rss / 1048576)} MiB, ${s.packages} package(s)`
      : `starting, pid ${state.pid}`;
    return { ...base, status: 'ok', message };
  }
  const shells = recordedAttached(paths).filter(alive);
  return {
    ...base,
    status: shells.length > 0 ? 'fail' : 'warn',
    message:
      `stale: ${state.why}; left behind ${state.leftovers.join(', ')}` +
      (shells.length > 0 ? `; shell(s) ${shells.join(', ')} still active` : ''),
    fix:
      shells.length > 0
        ? 'remove the stale socket and pid file and start a fresh daemon for the active shells'
        : 'remove the stale socket and pid file',
    repair: async () => {
      removeLeftovers(paths, state.pid);
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
