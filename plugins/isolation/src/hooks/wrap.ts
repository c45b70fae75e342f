/**
 * `blast run` and the activated subshell run under the environment's policy (see wrapper.ts);
 * every pip Blast runs, in the install sandbox (install-sandbox.ts).
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { dirname } from 'node:path';
import { installWrapper } from '../install-sandbox.js';
import { wrapperFor } from '../wrapper.js';

// Blast's installation and Node must be reachable inside the sandbox, wherever they live.
const hook: Hook<'wrap'> = async function (event) {
  if (event.purpose === 'install') return installWrapper(event);
  return wrapperFor(event, process.env, [this.config.root, dirname(process.execPath)]);
};
export default hook;
