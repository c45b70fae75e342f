/** `list`: per environment, the daemon's state and figures (a status request with a short timeout). */
import type { Hook } from '@oclif/core';
import type { EnvStatus } from 'blast/hooks';
import { daemonState } from '../control.js';
import { daemonPaths } from '../paths.js';

const hook: Hook<'list'> = async function ({ envs }) {
  return Promise.all(
    envs.map(async (env): Promise<EnvStatus> => {
      const state = await daemonState(daemonPaths(env.path, process.env), 300);
      const running = state.state === 'running' ? state : undefined;
      return {
        path: env.path,
        fields: {
          daemon: state.state,
          pid: state.state === 'stopped' ? null : state.pid,
          rss: running?.status?.rss ?? null,
          packages: running?.status?.packages ?? null,
        },
      };
    }),
  );
};

export default hook;
