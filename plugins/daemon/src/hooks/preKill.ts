/**
 * `preKill`: detach the shell from the environment (marked in the environment's state dir first,
 * so that a daemon still starting, or one that does not answer, does not keep it: see
 * detached.ts); the daemon stops serving the environment when no shell is left there, and exits
 * when no shell is left anywhere. Never vetoes: a daemon that does not answer is not a reason to
 * keep a shell activated. `--force`: SIGKILL the daemon, remove its socket and pid file, and
 * strike this shell off the environment's recorded attached shells (so the next daemon does not
 * re-attach it). A plain kill whose daemon is gone strikes it off too.
 */
import type { Hook } from '@oclif/core';
import { envPlacesOf, forceKill, leave, placesOf } from '../control.js';

const hook: Hook<'preKill'> = async function (event) {
  const places = placesOf(event.ctx);
  const env = envPlacesOf(event.ctx, event.env.path);
  if (event.force) {
    await forceKill(places, env, event.shellPid);
    return;
  }
  // No daemon answers (it died): leave() strikes this shell off the shells the dead daemon recorded
  // too (else the next daemon re-attaches it, and `blast clean NAME` takes it for a shell that
  // still has the environment active).
  await leave(places, env, event.shellPid, 1000);
};

export default hook;
