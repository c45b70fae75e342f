/**
 * Revision 1 of an environment: its state when Blast created it (or took it in). Without it, the
 * first change made around the shim (`python -m pip install`, poetry), which the daemon records,
 * would become revision 1 itself and could not be undone.
 */
import type { Env } from '../paths.js';
import { messageOf } from '../cli/errors.js';
import { recordCurrent } from './history.js';
import type { RevisionSummary } from './revisions.js';

/**
 * Record the environment's present state as its first revision; undefined (and said) when it
 * cannot: the environment is usable all the same, and the history records it later.
 */
export function recordFirst(
  envPath: string,
  env: Env,
  source: 'created' | 'adopted',
  detail?: string,
): RevisionSummary | undefined {
  try {
    const synced = recordCurrent(envPath, { env, source, ...(detail !== undefined ? { detail } : {}) });
    return synced.recorded;
  } catch (error) {
    process.stderr.write(
      `blast: warning: ${envPath} has no revision 1 (its state as ${source}): ${messageOf(error)}\n`,
    );
    return undefined;
  }
}
