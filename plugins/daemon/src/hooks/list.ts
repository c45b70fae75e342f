/**
 * `list`: per environment, the daemon's state and figures: one status request (short timeout) for
 * every environment, since one daemon serves them all. `memoryMiB` and `cpuSeconds` are the
 * daemon's (shared by every environment it serves); `shells` and `packages` the environment's.
 */
import type { Hook } from '@oclif/core';
import type { EnvStatus } from 'blast/contract';
import { cpuSeconds, daemonState, memoryMiB, placesOf } from '../control.js';

const hook: Hook<'list'> = async function ({ envs, ctx }) {
  const state = await daemonState(placesOf(ctx), 300);
  const s = state.state === 'running' ? state.status : undefined;
  return envs.map((env): EnvStatus => {
    const mine = s?.envs.find((e) => e.env === env.path);
    // A daemon that runs but does not serve this environment: stopped, for this environment.
    const daemon = state.state === 'running' && s && !mine ? 'stopped' : state.state;
    // Shown as key=value, and as numbers in --json: MiB with one decimal, CPU seconds with two.
    return {
      path: env.path,
      fields: {
        daemon,
        // `slow`: a living daemon that did not answer in time (busy, or the machine loaded).
        pid: daemon === 'stopped' || state.state === 'stopped' ? null : state.pid,
        shells: mine ? mine.attached.length : null,
        memoryMiB: mine && s ? memoryMiB(s) : null,
        cpuSeconds: mine && s ? cpuSeconds(s) : null,
        packages: mine ? mine.packages : null,
      },
    };
  });
};

export default hook;
