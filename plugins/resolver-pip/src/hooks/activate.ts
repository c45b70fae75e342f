/**
 * `activate`: with constraints, write the environment's constraints file and export
 * PIP_CONSTRAINT, so that pip run any way in the shell (`python -m pip`, a script) honours them,
 * not only the `pip` Blast intercepts. Without constraints the activation carries nothing of ours.
 */
import type { Hook } from '@oclif/core';
import { pipConstraintValue, writeConstraints } from '../resolver/constraints.js';
import { policyOf } from '../resolver/policy.js';

const hook: Hook<'activate'> = async function (event) {
  const { constraints } = policyOf(event.env.settings);
  writeConstraints(event.env.path, constraints);
  if (constraints.length === 0) return;
  return {
    set: { PIP_CONSTRAINT: pipConstraintValue(event.env.path, process.env.PIP_CONSTRAINT) },
    notes: [`pip constraints: ${constraints.join(', ')}`],
  };
};

export default hook;
