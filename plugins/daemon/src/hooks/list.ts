/** `list`: per environment, the daemon's state and figures (a status request with a short timeout). */
import type { Hook } from '@oclif/core';
import type { EnvStatus } from 'blast/contract';
import { cpuSeconds, daemonState, memoryMiB } from '../control.js';
import { daemonPaths } from '../paths.js';

const hook: Hook<'list'> = async function ({ envs }) {
  return Promise.all(
    envs.map(async (env): Promise<EnvStatus> => {
      const state = await daemonState(daemonPaths(env.path, process.env), 300);
      const s = state.state === 'running' ? state.status : undefined;
      // Shown as key=value, and as numbers in --json: MiB with one decimal, CPU seconds with two.
      return {
        path: env.path,
        fields: {
          daemon: state.state,
          // `slow`: a living daemon that did not answer in time (busy, or the machine loaded).
          pid: state.state === 'stopped' ? null : state.pid,
          shells: s ? s.attached.length : null,
          memoryMiB: s ? memoryMiB(s) : null,
          cpuSeconds: s ? cpuSeconds(s) : null,
          packages: s ? s.packages : null,
        },
      };
    }),
  );
};

export default hook;
