/** The settings this plugin owns (see policy.ts): isolation, memory, max-procs, cpu-time, disk-quota, no-network; and install-sandbox (install-sandbox.ts). */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { INSTALL_SETTING_SPEC } from '../install-sandbox.js';
import { SETTINGS } from '../policy.js';

const hook: Hook<'settings'> = async () => [...SETTINGS, INSTALL_SETTING_SPEC];
export default hook;
