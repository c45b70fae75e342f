/**
 * The core's answer to `target` (API 1.5): which environment a plugin command is about, by the
 * core's own rules (`--env NAME`, `--path DIR`, else the one active in this shell), so no plugin
 * keeps a copy of them. Loaded only when a plugin command asks.
 */
import type { Hook } from '@oclif/core';
import { eventContext } from '../lib/plugin-host/events.js';
import { snapshotTarget } from '../lib/envs/target.js';

const hook: Hook<'target'> = async function (request) {
  const loaded = await snapshotTarget(request, { env: process.env, cwd: process.cwd() });
  return { env: loaded.info, ctx: eventContext(this.config) };
};

export default hook;
