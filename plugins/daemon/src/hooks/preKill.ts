/**
 * `preKill`: detach the shell; the daemon stops by itself when no shell is left. Never vetoes:
 * a daemon that does not answer is not a reason to keep a shell activated. `--force`: SIGKILL the
 * daemon, remove its socket and pid file, and strike this shell off its recorded attached shells
 * (so the next daemon does not re-attach it). A plain kill whose daemon is gone strikes it off too.
 */
import type { Hook } from '@oclif/core';
import { request } from '../client.js';
import { forceKill, forgetShell } from '../control.js';
import { daemonPaths } from '../paths.js';

const hook: Hook<'preKill'> = async function (event) {
  const paths = daemonPaths(event.env.path, process.env);
  if (event.force) {
    await forceKill(paths, event.shellPid);
    return;
  }
  // No daemon answers (it died): this shell's activation is over all the same, so it goes off the
  // shells the dead daemon recorded (else the next daemon re-attaches it, and `blast clean NAME`
  // takes it for a shell that still has the environment active).
  await request(paths.socket, 'detach', { pid: event.shellPid }, 1000).catch(() =>
    forgetShell(paths, event.shellPid),
  );
};

export default hook;
