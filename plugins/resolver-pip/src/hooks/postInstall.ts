/**
 * `postInstall`: after pip changed something, the consistency check (`pip check`'s verdicts, done
 * in-process: resolver/consistency.ts). Broken requirements are a warning, or under
 * consistency=strict a failure, which makes the core roll the change back.
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { consistencyCheck } from '../resolver/consistency.js';
import { policyOf } from '../resolver/policy.js';

const hook: Hook<'postInstall'> = async function (event) {
  const { changed } = event;
  // A failed pip is rolled back anyway; nothing changed, nothing to check.
  if (event.exitCode !== 0) return;
  if (changed.added.length + changed.removed.length + changed.upgraded.length === 0) return;
  const result = await consistencyCheck({
    envPath: event.env.path,
    pythonVersion: event.env.python.version,
    environment: event.report?.environment,
    env: { ...event.ctx.env },
    cacheDir: event.ctx.cacheDir,
  });
  if (result.ok) return;
  const policy = policyOf(event.env.settings);
  const list = result.problems.map((p) => `  ${p}`).join('\n');
  if (policy.consistency === 'strict')
    throw new Error(`pip check found broken requirements (consistency=strict):\n${list}`);
  // pip warns itself about the conflicts it made; under -q nothing but pip and questions speaks.
  if ((event.pip?.verbosity ?? 0) < 0) return;
  process.stderr.write(
    `blast: warning: pip check found broken requirements after this change:\n${list}\n` +
      'blast: (set consistency=strict to roll such changes back: blast config consistency=strict)\n',
  );
};

export default hook;
