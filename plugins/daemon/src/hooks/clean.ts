/**
 * `clean`: what dead daemons left — sockets (runtime dir) and pid files (the environment's state
 * dir) whose daemon is gone, takeover locks older than a minute — for every environment,
 * registered or not (the files are found by name in the runtime dir and the state dirs). Only the dead's: a daemon process that exists but does not
 * answer (SIGSTOPped, stuck) is not dead, and its files are not touched; it is reported (a
 * warning) and left to `blast check --fix`, which kills and replaces it. A zombie is dead.
 */
import type { Hook } from '@oclif/core';
import type { CleanAction } from 'blast/contract';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { daemonState, removeLeftovers } from '../control.js';
import { daemonPaths, pathsForHash, runtimeDir, stateDir } from '../paths.js';

const NAME = /^d-([0-9a-f]{16})\.(sock|pid|takeover)$/;
const HASH = /^[0-9a-f]{16}$/;

/** `d-<hash>.pid` / `.takeover` names for what lives in the state dir, so one loop sees both. */
function stateDirEntries(env: NodeJS.ProcessEnv): Array<{ dir: string; name: string }> {
  const envs = join(stateDir(env), 'envs');
  let hashes: string[];
  try {
    hashes = readdirSync(envs).filter((h) => HASH.test(h));
  } catch {
    return [];
  }
  const found: Array<{ dir: string; name: string }> = [];
  for (const hash of hashes) {
    const paths = pathsForHash(hash, env);
    if (existsSync(paths.pidFile)) found.push({ dir: paths.runDir, name: `d-${hash}.pid` });
    if (existsSync(paths.takeover)) found.push({ dir: paths.runDir, name: `d-${hash}.takeover` });
  }
  return found;
}

const hook: Hook<'clean'> = async function ({ envs }) {
  const env = process.env;
  const dirs = new Set([runtimeDir(env), ...envs.map((e) => daemonPaths(e.path, env).runDir)]);
  const hashes = new Set<string>();
  const envNames = new Map(envs.map((e) => [daemonPaths(e.path, env).hash, e.name]));
  const actions: CleanAction[] = [];
  const entries: Array<{ dir: string; name: string }> = [];
  for (const dir of dirs) {
    try {
      for (const name of readdirSync(dir)) entries.push({ dir, name });
    } catch {
      continue;
    }
  }
  entries.push(...stateDirEntries(env));
  for (const { dir, name } of entries) {
    const match = NAME.exec(name);
    if (!match) continue;
    const paths = pathsForHash(match[1]!, env);
    if (paths.runDir !== dir) continue;
    if (match[2] === 'takeover') {
      const age = Date.now() - (statSync(paths.takeover, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000)
        actions.push({
          what: paths.takeover,
          why: 'takeover lock of a process that died',
          run: async () => rmSync(paths.takeover, { recursive: true, force: true }),
        });
      continue;
    }
    if (hashes.has(match[1]!)) continue;
    hashes.add(match[1]!);
    const state = await daemonState(paths);
    if (state.state !== 'stale') continue;
    const which = envNames.get(match[1]!) ?? `d-${match[1]}`;
    if (state.hung) {
      this.warn(
        `the daemon of ${which} is not dead but hung: ${state.why}. Not removed; ` +
          '`blast check --fix` kills and replaces it.',
      );
      continue;
    }
    for (const file of state.leftovers)
      actions.push({
        what: file,
        why: `left by a dead daemon (${state.why})`,
        run: async () => {
          if (!(await removeLeftovers(paths, state.pid))) throw new Error('kept: a live daemon holds it now');
        },
      });
  }
  return actions;
};

export default hook;
