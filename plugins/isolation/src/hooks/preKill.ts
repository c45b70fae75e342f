/** `blast kill`: the shell's own soft limits come back exactly (see shell-limits.ts). */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { restoreShell } from '../shell-limits.js';

const hook: Hook<'preKill'> = async (event) => {
  restoreShell(event.shellPid, event.env.path);
};
export default hook;
