/**
 * The activation under the policy: `limits` puts the policy's soft limits on this shell (see
 * shell-limits.ts); `sandbox` cannot happen in the user's own shell, so the core is asked for a
 * subshell, which it opens through the wrap event inside bubblewrap; there, the start that
 * activates it recognises the sandbox by BLAST_SANDBOX and goes on.
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { describe, policyOf, SANDBOX_VARIABLE } from '../policy.js';
import { limitShell } from '../shell-limits.js';

const hook: Hook<'activate'> = async (event) => {
  const policy = policyOf(event.env.settings);
  const sandbox = process.env[SANDBOX_VARIABLE];
  if (sandbox !== undefined && sandbox === event.env.path) {
    return { notes: [`isolation: inside ${event.env.name}'s sandbox (${describe(policy)}).`] };
  }
  if (policy.level === 'sandbox') {
    if (sandbox !== undefined) {
      throw new Error(
        `this shell is inside the sandbox of ${sandbox}; a sandbox cannot open inside another: exit it first.`,
      );
    }
    return {
      subshell: `isolation: ${event.env.name} runs in a bubblewrap sandbox (${describe(policy)}): opening it as a subshell.`,
    };
  }
  return limitShell(event, policy);
};
export default hook;
