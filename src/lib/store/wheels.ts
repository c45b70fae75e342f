/**
 * Which wheel a stored distribution came from: its file name and sha256 (and where it was found),
 * so a lock written from an environment whose distributions were served from the store (no pip,
 * maybe no index at all) still pins the archive that was really installed.
 *
 * `<store>/wheels.json`, keyed by the distribution's normalised name, version and the sha256 of its
 * METADATA (a wheel's METADATA is copied verbatim by every installer, so the key is the same in
 * every environment that has that build, served or installed by pip). Written under a lock by
 * whoever learns a wheel: `blast save --lock` (pip's report), `blast load --lock` (the lock's
 * archives), the shim after pip's report (`rememberWheels`), a store-served install (what its
 * source knew). A lost or damaged file only costs asking pip again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import { withLock } from '../fs/lock.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { ObjectStore } from './objects.js';
import { normalizeName } from '../python/names.js';

export interface WheelOrigin {
  /** The archive's file name (`numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl`). */
  filename: string;
  /** sha256 of the archive, lower-case hex. */
  sha256: string;
  /** Where it was found, when known (a file: or https: URL). */
  url?: string;
}

export interface WheelNote extends WheelOrigin {
  name: string;
  version: string;
  /** sha256 of the distribution's installed METADATA file. */
  metadataSha256: string;
}

interface WheelsFile {
  v: 1;
  wheels: Record<string, WheelOrigin>;
}

export function wheelKey(name: string, version: string, metadataSha256: string): string {
  return `${normalizeName(name)}==${version} ${metadataSha256}`;
}

function wheelsFile(store: ObjectStore): string {
  return join(store.root, 'wheels.json');
}

function valid(o: unknown): o is WheelOrigin {
  const w = o as WheelOrigin;
  return (
    !!w &&
    typeof w.filename === 'string' &&
    typeof w.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(w.sha256) &&
    (w.url === undefined || typeof w.url === 'string')
  );
}

/** Every wheel origin the store knows, by wheelKey (empty when none or unreadable). */
export function knownWheels(store: ObjectStore): Map<string, WheelOrigin> {
  try {
    const parsed = JSON.parse(readFileSync(wheelsFile(store), 'utf8')) as WheelsFile;
    if (parsed?.v !== 1 || !parsed.wheels || typeof parsed.wheels !== 'object') return new Map();
    return new Map(Object.entries(parsed.wheels).filter(([, w]) => valid(w)));
  } catch {
    return new Map();
  }
}

/** The wheel a distribution (name, version, METADATA hash) was installed from, when known. */
export function wheelOf(
  store: ObjectStore,
  name: string,
  version: string,
  metadataSha256: string,
  known = knownWheels(store),
): WheelOrigin | undefined {
  return known.get(wheelKey(name, version, metadataSha256));
}

/**
 * Remember which wheels distributions came from (the shim calls this with pip's report after an
 * install; a lock load and `save --lock` do too). Only wheels with a valid sha256 are kept.
 */
export function rememberWheels(store: ObjectStore, notes: readonly WheelNote[]): void {
  const good = notes.filter((n) => n.filename.endsWith('.whl') && valid(n));
  if (good.length === 0) return;
  const file = wheelsFile(store);
  withLock(
    `${file}.lock`,
    () => {
      const all = knownWheels(store);
      let changed = false;
      for (const n of good) {
        const key = wheelKey(n.name, n.version, n.metadataSha256);
        const had = all.get(key);
        const origin: WheelOrigin = {
          filename: n.filename,
          sha256: n.sha256.toLowerCase(),
          ...(n.url ? { url: n.url } : {}),
        };
        if (had && had.sha256 === origin.sha256 && had.filename === origin.filename && had.url === origin.url)
          continue;
        all.set(key, origin);
        changed = true;
      }
      if (!changed) return;
      const out: WheelsFile = { v: 1, wheels: Object.fromEntries(all) };
      writeFileAtomic(file, JSON.stringify(out) + '\n');
    },
    {
      what: 'remembering wheels',
      waitMs: 15_000,
      busy: (owner) =>
        new BlastError(
          `Another Blast process (pid ${owner.pid}) has held ${file}.lock for 15 s.`,
          ExitCode.failure,
          'Try again when it has finished.',
        ),
    },
  );
}
