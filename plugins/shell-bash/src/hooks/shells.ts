/** Answers the core's `shells` event with this plugin's adapters. */
import type { Hook } from '@oclif/core';
import { bash, zsh } from '../adapters.js';

const hook: Hook<'shells'> = async () => [bash, zsh];

export default hook;
