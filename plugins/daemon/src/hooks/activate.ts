/**
 * `activate`: make sure the daemon (one per user) runs and serves this environment with this shell
 * attached, and tell the shell where it is (BLAST_SOCKET). Fast: one connect + one round trip when
 * the daemon runs (it moves the shell from the environment it had active, if any); otherwise a
 * detached spawn that is not waited for (the daemon attaches the shell itself). A first start
 * after an upgrade also hands the daemon the environments of older per-environment daemons still
 * running, which it stops before serving them.
 */
import type { Hook } from '@oclif/core';
import { existsSync } from 'node:fs';
import { DaemonError, request, SHUTTING_DOWN } from '../client.js';
import { envPlacesOf, oldDaemonEnvs, placesOf, spawnDaemon } from '../control.js';
import { markDetached } from '../detached.js';
import { ensureRunDir } from '../run-dir.js';

const hook: Hook<'activate'> = async function (event) {
  const { ctx } = event;
  const places = placesOf(ctx);
  // Before any connect: a socket in a directory another user controls is theirs to answer.
  ensureRunDir(places.runDir);
  const env = envPlacesOf(ctx, event.env.path);
  // Switching from another environment Blast activated: that one no longer has this shell. The
  // daemon moves the shell itself; the mark is for a daemon that is not there to hear it (one
  // started later must not attach the shell there again from its records).
  const previous = ctx.env.BLAST_SOCKET ? ctx.env.VIRTUAL_ENV : undefined;
  if (previous && previous !== event.env.path) {
    const left = envPlacesOf(ctx, previous);
    if (existsSync(left.stateDir))
      try {
        markDetached(left, event.shellPid);
      } catch {
        // the daemon's move is enough
      }
  }
  try {
    await request(
      places.socket,
      'attach',
      { env: env.path, state: env.stateDir, pid: event.shellPid, since: Date.now() },
      1000,
    );
  } catch (error) {
    // A daemon that answered "no" for a reason of its own (not stopping) runs: leave it be.
    const answered =
      error instanceof DaemonError && error.kind === 'refused' && error.message !== SHUTTING_DOWN;
    if (!answered) {
      // Nothing answers (no daemon, a dead one's socket, one shutting down): start one. It sorts
      // out stale files and concurrent starts itself (see daemon/lock.ts).
      const old = (await oldDaemonEnvs(ctx, places)).filter((e) => e.path !== env.path);
      spawnDaemon(ctx, [{ path: env.path, state: env.stateDir, pids: [event.shellPid] }, ...old]);
    }
  }
  return { set: { BLAST_SOCKET: places.socket } };
};

export default hook;
