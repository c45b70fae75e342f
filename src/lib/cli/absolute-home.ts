/**
 * A relative BLAST_HOME (or BLAST_CACHE_DIR) is resolved once, against the cwd of the command
 * that reads it, and written back absolute into this process's environment: every process Blast
 * starts (the daemon, which runs in /; the pip shim; `blast record`; a subshell that may `cd`)
 * inherits the same directory instead of resolving the relative value again somewhere else.
 */
import { isAbsolute, resolve } from 'node:path';

export function absolutizeHomeVariables(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of ['BLAST_HOME', 'BLAST_CACHE_DIR'] as const) {
    const value = env[name];
    if (value && !isAbsolute(value)) env[name] = resolve(value);
  }
}
