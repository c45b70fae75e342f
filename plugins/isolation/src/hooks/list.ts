/**
 * `blast list`: what is enforced for each environment with isolation settings. The settings
 * themselves are shown by the core; the level may follow from them (memory alone means limits).
 */
import type { Hook } from '@oclif/core';
import type { EnvStatus } from 'blast/contract';
import { policyOf, SETTINGS } from '../policy.js';

const OURS = SETTINGS.map((s) => s.name);

const hook: Hook<'list'> = async ({ envs }) =>
  envs
    .filter((env) => OURS.some((name) => name in env.settings))
    .map((env): EnvStatus => {
      try {
        return { path: env.path, fields: { enforced: policyOf(env.settings).level } };
      } catch (error) {
        return { path: env.path, fields: { enforced: `invalid (${(error as Error).message})` } };
      }
    });
export default hook;
