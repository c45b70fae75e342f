/**
 * `preKill`: detach the shell from the environment (marked in the environment's state dir first,
 * so that a daemon still starting, or one that does not answer, does not keep it: see
 * detached.ts); the daemon stops serving the environment when no shell is left there, and exits
 * when no shell is left anywhere. Never vetoes: a daemon that does not answer is not a reason to
 * keep a shell activated. `--force`: SIGKILL the daemon, remove its socket and pid file, strike
 * this shell off the environment's recorded attached shells, and start a fresh daemon for the
 * other shells (of any environment) still recorded as active. A plain kill whose daemon is gone
 * strikes this shell off too.
 */
import type { Hook } from '@oclif/core';
import { envPlacesOf, forceKill, leave, placesOf, spawnDaemon } from '../control.js';

const hook: Hook<'preKill'> = async function (event) {
  const places = placesOf(event.ctx);
  const env = envPlacesOf(event.ctx, event.env.path);
  if (event.force) {
    const killed = await forceKill(places, env, event.shellPid);
    // The daemon served other shells' environments too: a fresh one serves those that are still
    // active (from its records; it exits at once when there are none). This shell is struck off.
    if (killed !== null) spawnDaemon(event.ctx, []);
    return;
  }
  // No daemon answers (it died): leave() strikes this shell off the shells the dead daemon recorded
  // too (else the next daemon re-attaches it, and `blast clean NAME` takes it for a shell that
  // still has the environment active).
  await leave(places, env, event.shellPid, 1000);
};

export default hook;
