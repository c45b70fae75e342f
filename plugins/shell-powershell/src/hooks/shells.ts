/** Answers the core's `shells` event with this plugin's adapter. */
import type { Hook } from '@oclif/core';
import { powershell } from '../adapter.js';

const hook: Hook<'shells'> = async () => [powershell];

export default hook;
