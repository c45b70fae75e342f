/**
 * `activate`: make sure the environment's daemon runs and has this shell attached, and tell the
 * shell where it is (BLAST_SOCKET). Fast: one connect + one round trip when the daemon runs;
 * otherwise a detached spawn that is not waited for (the daemon attaches the shell itself).
 */
import type { Hook } from '@oclif/core';
import { basename } from 'node:path';
import { DaemonError, request, SHUTTING_DOWN } from '../client.js';
import { coreBin, leave, spawnDaemon } from '../control.js';
import { daemonPaths, pathsForHash } from '../paths.js';
import { ensureRunDir } from '../run-dir.js';

/** The daemon paths of the environment whose socket this is (`d-<hash>.sock`), if it is one. */
function pathsOfSocket(socket: string) {
  const hash = /^d-([0-9a-f]{16})\.sock$/.exec(basename(socket))?.[1];
  return hash ? pathsForHash(hash, process.env) : undefined;
}

const hook: Hook<'activate'> = async function (event) {
  const paths = daemonPaths(event.env.path, process.env);
  // Before any connect: a socket in a directory another user controls is theirs to answer.
  ensureRunDir(paths.runDir);
  // Switching from another environment: that one's daemon no longer has this shell.
  const previous = process.env.BLAST_SOCKET;
  const left = previous && previous !== paths.socket ? pathsOfSocket(previous) : undefined;
  const leaving = left
    ? leave(left, event.shellPid, 300)
    : previous && previous !== paths.socket
      ? request(previous, 'detach', { pid: event.shellPid }, 300).catch(() => undefined)
      : undefined;
  try {
    await request(paths.socket, 'attach', { pid: event.shellPid, since: Date.now() }, 1000);
  } catch (error) {
    // A daemon that answered "no" for a reason of its own (not stopping) runs: leave it be.
    const answered =
      error instanceof DaemonError && error.kind === 'refused' && error.message !== SHUTTING_DOWN;
    if (!answered) {
      // Nothing answers (no daemon, a dead one's socket, one shutting down): start one. It sorts
      // out stale files and concurrent starts itself (see daemon/lock.ts).
      spawnDaemon(event.env.path, [event.shellPid], process.env, coreBin(this.config.root));
    }
  }
  await leaving;
  return { set: { BLAST_SOCKET: paths.socket } };
};

export default hook;
