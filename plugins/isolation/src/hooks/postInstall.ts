/**
 * A pip that failed in the install sandbox: when its log shows the sandbox stopped it (a hidden
 * path read, a write outside, a hidden socket), the transaction's failure says so and how to
 * install without the sandbox once. Then the disk quota, after each pip transaction: an environment over its `disk-quota` fails the
 * transaction, and the core puts the environment back as it was before pip ran. The quota holds
 * whatever the isolation level (it is about the disk, not the processes).
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { diskUsage } from '../disk.js';
import { forget, sandboxVerdict, stoppedMessage, takeRuns } from '../install-sandbox.js';
import { formatBytes, policyOf } from '../policy.js';

const hook: Hook<'postInstall'> = async (event) => {
  const runs = takeRuns(event.env.path);
  const verdict = event.exitCode === 0 ? undefined : sandboxVerdict(runs);
  for (const run of runs) forget(run);
  if (verdict) throw new Error(stoppedMessage(event.env, verdict, event.source, event.args));
  // A failed pip is rolled back anyway; nothing to measure.
  if (event.exitCode !== 0) return;
  const { diskQuota } = policyOf(event.env.settings);
  if (diskQuota === undefined) return;
  const used = await diskUsage(event.env.path);
  if (used <= diskQuota) return;
  throw new Error(
    `${event.env.name} would take ${formatBytes(used)} on disk, over its disk quota of ${formatBytes(diskQuota)}. Raise it with \`blast config disk-quota=SIZE\` or install less.`,
  );
};
export default hook;
