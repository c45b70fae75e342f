/**
 * `preKill`: detach the shell (marked in the state dir first, so that a daemon still starting, or
 * one that does not answer, does not keep it: see detached.ts); the daemon stops by itself when no
 * shell is left. Never vetoes:
 * a daemon that does not answer is not a reason to keep a shell activated. `--force`: SIGKILL the
 * daemon, remove its socket and pid file, and strike this shell off its recorded attached shells
 * (so the next daemon does not re-attach it). A plain kill whose daemon is gone strikes it off too.
 */
import type { Hook } from '@oclif/core';
import { forceKill, leave } from '../control.js';
import { daemonPaths } from '../paths.js';

const hook: Hook<'preKill'> = async function (event) {
  const paths = daemonPaths(event.env.path, process.env);
  if (event.force) {
    await forceKill(paths, event.shellPid);
    return;
  }
  // No daemon answers (it died): leave() strikes this shell off the shells the dead daemon recorded
  // too (else the next daemon re-attaches it, and `blast clean NAME` takes it for a shell that
  // still has the environment active).
  await leave(paths, event.shellPid, 1000);
};

export default hook;
