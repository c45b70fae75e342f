/**
 * `blast check`: for each environment with a policy, whether this machine can enforce it (the
 * same tests preStart vetoes on), with how to fix what is missing; and whether pip's builds and
 * installs run in the install sandbox (here, and for each environment that turned it off).
 */
import type { Hook } from '@oclif/core';
import type { BlastContext, CheckResult, EnvInfo } from 'blast/contract';
import { prlimitPath } from '../limits.js';
import { describe, formatBytes, hasLimits, policyOf } from '../policy.js';
import { requireSandbox } from '../sandbox.js';
import { INSTALL_SETTING, INSTALL_VARIABLE, installMode, probeInstallSandbox } from '../install-sandbox.js';

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

function installSandbox(envs: readonly EnvInfo[], ctx: BlastContext): CheckResult[] {
  const name = 'install sandbox';
  const probe = probeInstallSandbox(ctx);
  const out: CheckResult[] = [];
  const variable = ctx.env[INSTALL_VARIABLE];
  if (variable !== undefined && variable !== '') {
    try {
      const mode = installMode({}, ctx.env);
      out.push({
        name,
        status: mode.on && !probe.ok ? 'fail' : mode.on ? 'ok' : 'warn',
        message: mode.on
          ? probe.ok
            ? `${INSTALL_VARIABLE}=${variable}: pip's builds and installs run in bubblewrap`
            : `${INSTALL_VARIABLE}=${variable} asks for the install sandbox, but ${probe.why}`
          : `${INSTALL_VARIABLE}=${variable}: pip's builds and installs are not sandboxed (a package's build can read your home)`,
      });
    } catch (error) {
      out.push({ name, status: 'fail', message: (error as Error).message });
    }
    return out;
  }
  out.push(
    probe.ok
      ? {
          name,
          status: 'ok',
          message:
            "pip's builds and installs run in bubblewrap: home hidden (but pip's cache and config), only the environment writable, no local sockets",
        }
      : { name, status: 'warn', message: `pip's builds and installs are not sandboxed: ${probe.why}` },
  );
  for (const env of envs) {
    let mode;
    try {
      mode = installMode(env.settings, {});
    } catch (error) {
      out.push({ name, env: env.name, status: 'fail', message: (error as Error).message });
      continue;
    }
    if (!mode.explicit) continue;
    if (!mode.on)
      out.push({
        name,
        env: env.name,
        status: 'warn',
        message: `${INSTALL_SETTING}=off: pip's builds and installs in ${env.name} are not sandboxed (\`blast config --env ${env.name} --unset ${INSTALL_SETTING}\` sandboxes them)`,
      });
    else if (!probe.ok)
      out.push({
        name,
        env: env.name,
        status: 'fail',
        message: `${INSTALL_SETTING}=on, but ${probe.why}: every pip install in ${env.name} will be refused`,
      });
  }
  return out;
}

const hook: Hook<'check'> = async ({ envs, ctx }) => [
  ...envs.map(checkEnv).filter((r): r is CheckResult => r !== undefined),
  ...installSandbox(envs, ctx),
];
export default hook;
