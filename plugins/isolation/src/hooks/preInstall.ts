/**
 * pip transactions inside the sandbox: Blast's store (shared by every environment, hard-linked
 * into them) is read-only there by design, so a transaction could neither snapshot nor roll back.
 * Refuse it with the way out, instead of failing half way on a read-only file system.
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { SANDBOX_VARIABLE } from '../policy.js';

const hook: Hook<'preInstall'> = async (event) => {
  if (process.env[SANDBOX_VARIABLE] !== event.env.path) return;
  // A restore from the store (API 1.4) writes there too.
  if (event.source !== undefined && event.source !== 'pip' && event.args.length === 0)
    throw new Error(
      `\`blast load\` cannot change ${event.env.name} inside its sandbox, where Blast's store is read-only. Run it from a shell outside the sandbox (\`blast load --env ${event.env.name} …\`).`,
    );
  throw new Error(
    `pip transactions cannot run inside ${event.env.name}'s sandbox, where Blast's store is read-only. Install from outside it (\`blast pip -- ${event.args.join(' ')}\` in a shell where ${event.env.name} is active without the sandbox, after \`blast config --env ${event.env.name} isolation=none\`), or use \`python -m pip\` inside, without Blast's rollback and quota.`,
  );
};
export default hook;
