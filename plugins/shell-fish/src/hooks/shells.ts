/** Answers the core's `shells` event with this plugin's adapters. */
import type { Hook } from '@oclif/core';

const hook: Hook<'shells'> = async () => [];

export default hook;
