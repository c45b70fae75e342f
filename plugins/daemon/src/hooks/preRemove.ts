/**
 * `preRemove` (API 1.4): `blast clean NAME` must not delete an environment from under the shells
 * that have it active, nor from under the daemon serving it. The daemon is what knows those
 * shells: it answers with the shells attached to the environment; a daemon that died leaves the
 * list in the environment's attached.json, whose still-living pids are shells that have it active.
 * A daemon that does not answer (hung) is refused too: `blast check --fix` replaces it first.
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { statSync } from 'node:fs';
import { alive } from '../client.js';
import { daemonState, envPlacesOf, placesOf, recordedAttached } from '../control.js';

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

const hook: Hook<'preRemove'> = async function ({ env, ctx }) {
  const paths = envPlacesOf(ctx, env.path);
  const state = await daemonState(placesOf(ctx), 1000);
  const way = `Run \`blast kill\` in each shell where ${env.name} is active (the daemon stops serving it with the last one), then \`blast clean ${env.name}\` again.`;
  const mine = state.state === 'running' ? state.status?.envs.find((e) => e.env === env.path) : undefined;
  if (state.state === 'running' && (mine || !state.status)) {
    const shells = mine?.attached ?? recordedAttached(paths);
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
