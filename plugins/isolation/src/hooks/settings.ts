/** The settings this plugin owns (see policy.ts): isolation, memory, max-procs, cpu-time, disk-quota, no-network. */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { SETTINGS } from '../policy.js';

const hook: Hook<'settings'> = async () => SETTINGS;
export default hook;
