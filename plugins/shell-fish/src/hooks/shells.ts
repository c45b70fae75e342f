/** Answers the core's `shells` event with this plugin's adapter. */
import type { Hook } from '@oclif/core';
import { fish } from '../adapters.js';

const hook: Hook<'shells'> = async () => [fish];

export default hook;
