/**
 * `preKill`: detach the shell; the daemon stops by itself when no shell is left. Never vetoes:
 * a daemon that does not answer is not a reason to keep a shell activated. `--force`: SIGKILL the
 * daemon, remove its socket and pid file, and strike this shell off its recorded attached shells
 * (so the next daemon does not re-attach it).
 */
import type { Hook } from '@oclif/core';
import { request } from '../client.js';
import { forceKill } from '../control.js';
import { daemonPaths } from '../paths.js';

const hook: Hook<'preKill'> = async function (event) {
  const paths = daemonPaths(event.env.path, process.env);
  if (event.force) {
    await forceKill(paths, event.shellPid);
    return;
  }
  await request(paths.socket, 'detach', { pid: event.shellPid }, 1000).catch(() => undefined);
};

export default hook;
