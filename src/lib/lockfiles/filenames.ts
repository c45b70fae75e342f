/** What archive file names say: wheels' name, version and tags (PEP 427/491), sdists' name and version. */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeName } from '../python/names.js';
import type { LockedArchive } from './types.js';

const SDIST = /\.(tar\.gz|zip|tar\.bz2|tar\.xz|tgz|tar)$/i;

/** The archive a URL or path points at, or undefined when it is not a wheel or an sdist (a directory, VCS). */
export function archiveFromUrl(url: string): Omit<LockedArchive, 'sha256'> | undefined {
  let filename: string;
  try {
    const parsed = new URL(url);
    if (!/^(https?|file):$/.test(parsed.protocol)) return undefined;
    filename = decodeURIComponent(
      basename(parsed.protocol === 'file:' ? fileURLToPath(parsed) : parsed.pathname),
    );
  } catch {
    return undefined;
  }
  if (filename.endsWith('.whl')) return { kind: 'wheel', filename, url };
  if (SDIST.test(filename)) return { kind: 'sdist', filename, url };
  return undefined;
}

export interface WheelName {
  name: string;
  version: string;
  /** Every `python-abi-platform` tag the file name's compressed tag sets expand to. */
  tags: string[];
}

export function parseWheelName(filename: string): WheelName | undefined {
  const parts = basename(filename)
    .replace(/\.whl$/, '')
    .split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [name, version] = parts as [string, string];
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const tags: string[] = [];
  for (const p of py.split('.'))
    for (const a of abi.split('.')) for (const l of plat.split('.')) tags.push(`${p}-${a}-${l}`);
  return { name, version, tags };
}

/** The version in a wheel's or sdist's file name (`name` helps sdists whose name has dashes). */
export function versionFromFilename(filename: string, name?: string): string | undefined {
  if (filename.endsWith('.whl')) return parseWheelName(filename)?.version;
  if (!SDIST.test(filename)) return undefined;
  const stem = filename.replace(SDIST, '');
  if (name) {
    const want = normalizeName(name);
    for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
      if (normalizeName(stem.slice(0, i)) === want) return stem.slice(i + 1) || undefined;
    }
  }
  const dash = stem.lastIndexOf('-');
  return dash > 0 ? stem.slice(dash + 1) : undefined;
}

/** Whether an archive file name is of this distribution (normalised name, and version when given). */
export function archiveIsOf(filename: string, name: string, version: string): boolean {
  const wheel = filename.endsWith('.whl') ? parseWheelName(filename) : undefined;
  if (wheel) return normalizeName(wheel.name) === normalizeName(name) && wheel.version === version;
  const stem = filename.replace(SDIST, '');
  if (stem === filename || !stem.endsWith(`-${version}`)) return false;
  return normalizeName(stem.slice(0, -(version.length + 1))) === normalizeName(name);
}
