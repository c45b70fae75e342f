/**
 * Blast's own OCI state, in the store (`<store>/oci/`): `tmp/` for layers being packed and blobs
 * being fetched (named as the store's temporary files, so a killed process's are recognised and
 * removed), `blobs/` for fetched blobs whose digest was verified and that are not yet unpacked
 * into objects (an interrupted pull goes on from them), and `known.json`: which repositories of
 * which registry have which blob, so a push to another repository of the same registry mounts it
 * instead of uploading it again.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from '../fs/alive.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { ObjectStore } from '../store/objects.js';

export function ociDir(store: ObjectStore): string {
  return join(store.root, 'oci');
}

/** `<store>/oci/tmp`, made, with the temporaries of processes that no longer run removed. */
export function ociTemp(store: ObjectStore): string {
  const dir = join(ociDir(store), 'tmp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(dir)) {
    const m = /^\.tmp-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
  return dir;
}

export function blobsDir(store: ObjectStore): string {
  return join(ociDir(store), 'blobs');
}

export function blobPath(store: ObjectStore, digest: string): string {
  return join(blobsDir(store), digest.replace(':', '-'));
}

type Known = Record<string, string[]>;

function knownFile(store: ObjectStore): string {
  return join(ociDir(store), 'known.json');
}

function readKnown(store: ObjectStore): Known {
  try {
    const known = JSON.parse(readFileSync(knownFile(store), 'utf8')) as unknown;
    return known && typeof known === 'object' && !Array.isArray(known) ? (known as Known) : {};
  } catch {
    return {}; // a hint only: without it, a blob is uploaded instead of mounted
  }
}

/** A repository of `registry` other than `repository` that has `digest`, as far as this machine knows. */
export function mountSource(
  store: ObjectStore,
  registry: string,
  repository: string,
  digest: string,
): string | undefined {
  const prefix = `${registry}/`;
  const have = readKnown(store)[digest] ?? [];
  return have
    .filter((r) => r.startsWith(prefix) && r !== `${registry}/${repository}`)
    .map((r) => r.slice(prefix.length))[0];
}

/** Remember that `registry/repository` has these blobs. */
export function rememberBlobs(
  store: ObjectStore,
  registry: string,
  repository: string,
  digests: string[],
): void {
  const known = readKnown(store);
  const where = `${registry}/${repository}`;
  for (const d of digests) {
    const list = (known[d] ??= []);
    if (!list.includes(where)) list.push(where);
  }
  try {
    writeFileAtomic(knownFile(store), JSON.stringify(known) + '\n');
  } catch {
    // a hint only
  }
}
