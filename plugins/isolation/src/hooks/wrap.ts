/** `blast run` and the activated subshell run under the environment's policy (see wrapper.ts). */
import type { Hook } from '@oclif/core';
import type {} from 'blast/hooks';
import { wrapperFor } from '../wrapper.js';

const hook: Hook<'wrap'> = async (event) => wrapperFor(event);
export default hook;
