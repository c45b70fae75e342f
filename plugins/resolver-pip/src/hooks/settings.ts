/** The settings this plugin owns: constraint, downgrades, consistency (see resolver/policy.ts). */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { SETTINGS } from '../resolver/policy.js';

const hook: Hook<'settings'> = async () => SETTINGS;
export default hook;
