/**
 * Veto a policy this machine cannot meet, before anything is created or activated: a stored
 * combination that cannot be enforced, no bubblewrap or no user namespaces for the sandbox, no
 * prlimit for limits.
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { requirePrlimit } from '../limits.js';
import { hasLimits, policyOf, SANDBOX_VARIABLE } from '../policy.js';
import { requireSandbox } from '../sandbox.js';

const hook: Hook<'preStart'> = async (event) => {
  const policy = policyOf(event.env.settings);
  // The start inside the sandboxed subshell: the sandbox it runs in is the proof.
  const inside = process.env[SANDBOX_VARIABLE];
  if (inside === event.env.path) return;
  if (policy.level === 'sandbox') {
    if (inside !== undefined) {
      throw new Error(
        `this shell is inside the sandbox of ${inside}; a sandbox cannot open inside another: exit it first.`,
      );
    }
    requireSandbox(policy);
  }
  if (policy.level !== 'none' && hasLimits(policy)) requirePrlimit();
};
export default hook;
