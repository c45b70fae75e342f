/**
 * `blast check`: for each environment with a policy, whether this machine can enforce it (the
 * same tests preStart vetoes on), with how to fix what is missing.
 */
import type { Hook } from '@oclif/core';
import type { CheckResult, EnvInfo } from 'blast/contract';
import { prlimitPath } from '../limits.js';
import { describe, formatBytes, hasLimits, policyOf } from '../policy.js';
import { requireSandbox } from '../sandbox.js';

function checkEnv(env: EnvInfo): CheckResult | undefined {
  const name = 'isolation policy';
  let policy;
  try {
    policy = policyOf(env.settings);
  } catch (error) {
    return {
      name,
      env: env.name,
      status: 'fail',
      message: `${(error as Error).message} Change the settings with \`blast config --env ${env.name}\`.`,
    };
  }
  if (policy.level === 'none' && policy.diskQuota === undefined) return undefined;
  const shown = describe(policy);
  if (policy.level === 'sandbox') {
    try {
      requireSandbox(policy);
    } catch (error) {
      return { name, env: env.name, status: 'fail', message: `${shown}: ${(error as Error).message}` };
    }
  }
  if (policy.level !== 'none' && hasLimits(policy) && !prlimitPath()) {
    return {
      name,
      env: env.name,
      status: 'fail',
      message: `${shown}: prlimit (util-linux) is not on PATH; install it: apt-get install util-linux`,
    };
  }
  if (policy.level === 'limits' && policy.maxProcs !== undefined && process.getuid?.() === 0) {
    return {
      name,
      env: env.name,
      status: 'warn',
      message: `${shown}: max-procs is not enforced for root outside the sandbox (the kernel exempts root from RLIMIT_NPROC); it holds for other users' processes the shell starts. Work as a regular user to have it apply.`,
    };
  }
  if (policy.level === 'none' && (hasLimits(policy) || policy.noNetwork)) {
    return {
      name,
      env: env.name,
      status: 'warn',
      message: `isolation=none: the stored limits are not enforced (\`blast config --env ${env.name} --unset isolation\` enforces them)`,
    };
  }
  const quota =
    policy.diskQuota === undefined
      ? ''
      : `, disk-quota ${formatBytes(policy.diskQuota)} after each pip transaction`;
  const message =
    policy.level === 'none'
      ? `disk-quota ${formatBytes(policy.diskQuota!)} checked after each pip transaction`
      : `${shown} can be enforced here${quota}`;
  return { name, env: env.name, status: 'ok', message };
}

const hook: Hook<'check'> = async ({ envs }) =>
  envs.map(checkEnv).filter((r): r is CheckResult => r !== undefined);
export default hook;
