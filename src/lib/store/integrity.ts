/**
 * `blast check --deep`: every object the store holds re-hashed (seals only catch writes that move
 * an object's size or mtime; a deep check catches any change), and every snapshot and revision
 * that needs a damaged or missing object named, since it can no longer be restored exactly.
 * Nothing is changed here; `fixDamaged` moves damaged objects aside as a restore would.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isLink, type Manifest, readManifest } from './manifest.js';
import { hashFile, keyOf, type ObjectStore, refOfKey } from './objects.js';
import { readRevisionFile } from './revisions.js';

export interface DamagedObject {
  key: string;
  /** Where it is in the store. */
  file: string;
  /** `bytes`: they no longer hash to its name; `mode`: right bytes, other permission bits (repairable). */
  problem: 'bytes' | 'mode' | 'not a file';
}

export interface Unrestorable {
  /** The environment's path, as the manifest has it. */
  env: string;
  /** `snapshot NAME` or `revision N`. */
  what: string;
  files: Array<{ path: string; key: string; problem: 'damaged' | 'missing'; quarantined: boolean }>;
}

export interface DeepReport {
  /** Objects re-hashed, and their bytes. */
  objects: number;
  bytes: number;
  damaged: DamagedObject[];
  unrestorable: Unrestorable[];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Re-hash every object, then find the snapshots and revisions that need what is damaged or gone. */
export function deepCheck(store: ObjectStore): DeepReport {
  const report: DeepReport = { objects: 0, bytes: 0, damaged: [], unrestorable: [] };
  const present = new Set<string>();
  const bad = new Set<string>();
  for (const d of listDir(store.objects)) {
    for (const name of listDir(join(store.objects, d))) {
      const ref = refOfKey(name);
      if (!ref) continue; // temporaries (staleTemps) and anything that is not an object
      const file = join(store.objects, d, name);
      let st;
      try {
        st = lstatSync(file);
      } catch {
        continue; // removed meanwhile (blast clean)
      }
      present.add(name);
      if (!st.isFile()) {
        report.damaged.push({ key: name, file, problem: 'not a file' });
        bad.add(name);
        continue;
      }
      report.objects++;
      report.bytes += st.size;
      if (hashFile(file) !== ref.sha256) {
        report.damaged.push({ key: name, file, problem: 'bytes' });
        bad.add(name);
      } else if ((st.mode & 0o7777) !== ref.mode) report.damaged.push({ key: name, file, problem: 'mode' });
    }
  }
  const quarantined = new Set(listDir(store.quarantine).map((n) => n.replace(/-\d+-\d+$/, '')));
  const consider = (manifest: Manifest, what: string) => {
    const files: Unrestorable['files'] = [];
    for (const dist of manifest.distributions)
      for (const f of dist.files) {
        if (isLink(f)) continue;
        const key = keyOf(f);
        if (bad.has(key)) files.push({ path: f.path, key, problem: 'damaged', quarantined: false });
        else if (!present.has(key))
          files.push({ path: f.path, key, problem: 'missing', quarantined: quarantined.has(key) });
      }
    if (files.length) report.unrestorable.push({ env: manifest.env, what, files });
  };
  const snapshots = join(store.root, 'snapshots');
  for (const hash of listDir(snapshots))
    for (const f of listDir(join(snapshots, hash))) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      try {
        consider(readManifest(join(snapshots, hash, f)), `snapshot ${f.slice(0, -5)}`);
      } catch {
        // a corrupt snapshot is refused by `blast load` already, and listed as corrupt
      }
    }
  const revisions = join(store.root, 'revisions');
  for (const hash of listDir(revisions)) {
    const numbers = listDir(join(revisions, hash))
      .map((f) => /^([1-9]\d*)\.json$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const n of numbers) {
      try {
        consider(readRevisionFile(join(revisions, hash, `${n}.json`)).manifest, `revision ${n}`);
      } catch {
        // a damaged revision is not in the history
      }
    }
  }
  return report;
}

/**
 * Move damaged objects to the quarantine (as a restore that meets one does), and store again with
 * the right mode those whose bytes are right. Returns how many were handled.
 */
export function fixDamaged(store: ObjectStore, damaged: readonly DamagedObject[]): number {
  let n = 0;
  for (const d of damaged) {
    const ref = refOfKey(d.key);
    if (!ref) continue;
    if (d.problem === 'mode') store.verify(ref);
    else store.quarantineObject(ref);
    n++;
  }
  return n;
}
