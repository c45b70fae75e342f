/** For tests elsewhere (plugins may not import the core's src): where the activation puts the pip shim. */
import { shimDirFor as shimDirOf } from '../../src/lib/transaction/shim.js';
import { BIN } from '../support/cli.js';

/** The shim dir of the environment when this checkout's CLI (test/support/cli.ts's `blast`) activates it. */
export function shimDirFor(envPath: string, env: Readonly<Record<string, string | undefined>>): string {
  return shimDirOf(envPath, process.execPath, BIN, env);
}
