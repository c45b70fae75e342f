/**
 * `clean`: what a dead daemon left — its socket (runtime dir) and pid file (`<stateDir>/daemon`),
 * a takeover lock older than a minute — and the sockets and pid files of dead per-environment
 * daemons of an older Blast. Only the dead's: a daemon process that exists but does not answer
 * (SIGSTOPped, stuck) is not dead, and its files are not touched; it is reported (a warning) and
 * left to `blast check --fix`, which kills and replaces it. A zombie is dead.
 */
import type { Hook } from '@oclif/core';
import type { CleanAction } from 'blast/contract';
import { existsSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { living, readPidFile } from '../client.js';
import { daemonState, envPlacesOf, placesOf, removeLeftovers } from '../control.js';
import { oldSockets } from '../old-daemons.js';

/** Whether nothing listens on a socket (connect refused): a dead daemon's. */
function deadSocket(socket: string): Promise<boolean> {
  return new Promise((done) => {
    const c = connect(socket);
    c.on('connect', () => (c.destroy(), done(false)));
    c.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'));
  });
}

const hook: Hook<'clean'> = async function ({ envs, ctx }) {
  const places = placesOf(ctx);
  const actions: CleanAction[] = [];
  const age = statSync(places.takeover, { throwIfNoEntry: false });
  if (age && Date.now() - age.mtimeMs > 60_000)
    actions.push({
      what: places.takeover,
      why: 'takeover lock of a process that died',
      run: async () => rmSync(places.takeover, { recursive: true, force: true }),
    });
  const state = await daemonState(places);
  if (state.state === 'stale' && state.hung)
    this.warn(
      `the daemon is not dead but hung: ${state.why}. Not removed; ` +
        '`blast check --fix` kills and replaces it.',
    );
  else if (state.state === 'stale')
    for (const file of state.leftovers)
      actions.push({
        what: file,
        why: `left by a dead daemon (${state.why})`,
        run: async () => {
          if (!(await removeLeftovers(places, state.pid)))
            throw new Error('kept: a live daemon holds it now');
        },
      });
  // Older Blasts' per-environment daemons: dead ones' sockets and pid files.
  for (const socket of new Set([...oldSockets(ctx.runtimeDir), ...oldSockets(places.runDir)]))
    if (await deadSocket(socket))
      actions.push({
        what: socket,
        why: 'left by a dead per-environment daemon of an older Blast',
        run: async () => rmSync(socket, { force: true }),
      });
  for (const env of envs) {
    const { oldPidFile } = envPlacesOf(ctx, env.path);
    const pid = readPidFile(oldPidFile)?.pid;
    if (existsSync(oldPidFile) && !(pid && living(pid)))
      actions.push({
        what: oldPidFile,
        why: 'left by a dead per-environment daemon of an older Blast',
        run: async () => rmSync(oldPidFile, { force: true }),
      });
  }
  return actions;
};

export default hook;
