/**
 * `preRemove` (API 1.4): `blast clean NAME` must not delete an environment from under the shells
 * that have it active, nor from under its running daemon. The daemon is what knows those shells:
 * it answers with the shells attached to it; a daemon that died leaves the list in attached.json,
 * whose still-living pids are shells that have the environment active. A daemon that does not
 * answer (hung) is refused too: `blast check --fix` replaces it first.
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { statSync } from 'node:fs';
import { daemonState, recordedAttached } from '../control.js';
import { alive } from '../client.js';
import { daemonPaths } from '../paths.js';

/**
 * Whether `pid` is a process started after `file` was last written: then it reuses the pid of a
 * shell that has gone, and is no shell of this environment (Linux: /proc/PID's ctime is its start).
 */
function startedAfter(pid: number, file: string): boolean {
  try {
    return statSync(`/proc/${pid}`).ctimeMs > statSync(file).mtimeMs + 1000;
  } catch {
    return false;
  }
}

const hook: Hook<'preRemove'> = async function ({ env }) {
  const paths = daemonPaths(env.path, process.env);
  const state = await daemonState(paths, 1000);
  const way = `Run \`blast kill\` in each shell where ${env.name} is active (its daemon stops with the last one), then \`blast clean ${env.name}\` again.`;
  if (state.state === 'running') {
    const shells = state.status?.attached ?? recordedAttached(paths);
    throw new Error(
      `${env.name} is in use: its daemon runs (pid ${state.pid})` +
        (shells.length ? ` for the shell(s) with pid ${shells.join(', ')}` : '') +
        `; nothing was deleted. ${way}`,
    );
  }
  if (state.state === 'stale' && state.hung) {
    throw new Error(
      `${env.name}'s daemon (pid ${state.pid}) does not answer; nothing was deleted. Run \`blast check --fix\` (it replaces a hung daemon), or ${way.charAt(0).toLowerCase()}${way.slice(1)}`,
    );
  }
  const living = recordedAttached(paths).filter(
    (pid) => pid !== 1 && alive(pid) && !startedAfter(pid, paths.attached),
  );
  if (living.length > 0) {
    throw new Error(
      `${env.name} is still active in the shell(s) with pid ${living.join(', ')} (its daemon is gone); nothing was deleted. ${way}`,
    );
  }
};

export default hook;
