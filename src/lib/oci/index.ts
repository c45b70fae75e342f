/** Team sync through OCI registries: `blast push` and `blast pull` (see docs/sync.md). */
export { parseReference, formatReference, type Reference } from './reference.js';
export { resolveCredentials, dockerCredentials, type Credentials } from './auth.js';
export { RegistryClient, type ClientOptions } from './client.js';
export { push, type PushResult } from './push.js';
export { pull, pullLock, type LockPulled, type PullResult } from './pull.js';

/** Bytes per PATCH of a chunked upload, from BLAST_OCI_CHUNK_BYTES (tests make it small). */
export function chunkBytes(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const n = Number(env.BLAST_OCI_CHUNK_BYTES);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
