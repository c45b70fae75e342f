/** Answers Blast's `shells` event: this plugin provides one shell, elvish. */
import type { Hook } from '@oclif/core';
import { elvish } from '../adapter.js';

const hook: Hook<'shells'> = async () => [elvish];

export default hook;
