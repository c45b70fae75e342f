/**
 * Distributions the store can bring back offline: every exact name+version this environment had
 * in one of its revisions or snapshots, with every one of its files still in the store, taken
 * with the same Python (compiled files and bytecode belong to one Python).
 */
import {
  type DistEntry,
  listRevisions,
  listSnapshots,
  type Manifest,
  type ObjectStore,
  readManifest,
  readRevision,
} from '../store/index.js';
import { normalizeName } from '../python/names.js';

export const storedKey = (name: string, version: string) => `${normalizeName(name)}==${version}`;

/** Of the `wanted` keys (storedKey), those the store has complete for this environment. */
export function storedDists(
  store: ObjectStore,
  envPath: string,
  python: string,
  wanted: ReadonlySet<string>,
): Map<string, DistEntry> {
  const out = new Map<string, DistEntry>();
  const take = (manifest: Manifest) => {
    if (manifest.python !== python) return;
    for (const dist of manifest.distributions) {
      const key = storedKey(dist.name, dist.version);
      if (!wanted.has(key) || out.has(key)) continue;
      // Intact too (checked against its seal): a damaged object goes to pip instead.
      const complete = dist.files.every((f) => 'link' in f || store.verify(f, f).state === 'ok');
      if (complete) out.set(key, dist);
    }
  };
  const missing = () => [...wanted].some((k) => !out.has(k));
  // Revisions, newest first; their index says what each holds, so only useful ones are read.
  for (const summary of listRevisions(store, envPath).reverse()) {
    if (!missing()) return out;
    const holds = summary.distributions.some((d) => {
      const at = d.lastIndexOf(' ');
      const key = storedKey(d.slice(0, at), d.slice(at + 1));
      return wanted.has(key) && !out.has(key);
    });
    if (!holds) continue;
    try {
      take(readRevision(store, envPath, summary.n).manifest);
    } catch {
      // a damaged revision just offers nothing
    }
  }
  for (const snapshot of listSnapshots(store, envPath).reverse()) {
    if (!missing()) return out;
    try {
      take(readManifest(snapshot.file));
    } catch {
      // likewise
    }
  }
  return out;
}
