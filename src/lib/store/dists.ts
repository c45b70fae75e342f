/**
 * Installed distributions as pip leaves them: `<site-packages>/<name>-<version>.dist-info/` with
 * METADATA and RECORD. RECORD paths are relative to site-packages and may leave it (console
 * scripts are `../../../bin/<name>`); here every path is made relative to the environment root,
 * and paths that leave the environment are ignored (nothing outside it is Blast's to restore).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import { readVenv } from '../venv/cfg.js';
import { normalizeName } from '../python/names.js';
import { byText } from '../text-order.js';

export interface InstalledDist {
  name: string;
  version: string;
  /** The dist-info directory, relative to the environment root. */
  distInfo: string;
  /** Every file its RECORD lists (RECORD itself included) inside the environment, relative to the root. */
  paths: string[];
}

/** `lib/pythonX.Y/site-packages` relative to the environment root. */
export function sitePackagesOf(envPath: string): string {
  const info = readVenv(envPath);
  const [major, minor] = (info.version ?? '').split('.');
  if (major && minor) {
    const rel = join('lib', `python${major}.${minor}`, 'site-packages');
    if (existsSync(join(envPath, rel))) return rel;
  }
  const lib = join(envPath, 'lib');
  for (const name of existsSync(lib) ? readdirSync(lib).sort() : []) {
    const rel = join('lib', name, 'site-packages');
    if (name.startsWith('python') && existsSync(join(envPath, rel))) return rel;
  }
  throw new BlastError(`${envPath} has no site-packages directory.`, ExitCode.failure);
}

/** One RECORD line's first field (CSV: quoted when it holds a comma or a quote). */
export function recordPaths(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    if (line.startsWith('"')) {
      let i = 1;
      let value = '';
      while (i < line.length) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          break;
        }
        value += line[i++];
      }
      out.push(value);
    } else {
      const comma = line.indexOf(',');
      out.push(comma < 0 ? line : line.slice(0, comma));
    }
  }
  return out;
}

/** Header value of an email-style METADATA file. */
function header(text: string, key: string): string | undefined {
  const want = key.toLowerCase() + ':';
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (line.toLowerCase().startsWith(want)) return line.slice(want.length).trim();
  }
  return undefined;
}

/** `a/b/../c` relative to the environment root, or undefined when it leaves the environment. */
export function insideEnv(envPath: string, fromSitePackages: string, recordPath: string): string | undefined {
  if (isAbsolute(recordPath)) {
    const rel = relative(envPath, recordPath);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : undefined;
  }
  const abs = resolve(envPath, fromSitePackages, recordPath);
  const rel = relative(resolve(envPath), abs);
  if (!rel || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
  return rel.split(sep).join(posix.sep);
}

/**
 * The distributions installed in the environment (name and version only: no RECORD is read, for
 * what only compares versions), sorted by dist-info.
 */
export function installedNames(
  envPath: string,
  sitePackages = sitePackagesOf(envPath),
): Array<{ name: string; version: string; distInfo: string }> {
  const dir = join(envPath, sitePackages);
  const out: Array<{ name: string; version: string; distInfo: string }> = [];
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith('.dist-info')) continue;
    const distInfo = join(sitePackages, entry);
    if (!existsSync(join(envPath, distInfo, 'RECORD'))) continue; // as installedDists
    out.push({ ...nameAndVersion(envPath, distInfo, entry), distInfo });
  }
  return out;
}

function nameAndVersion(envPath: string, distInfo: string, entry: string): { name: string; version: string } {
  let metadata = '';
  try {
    metadata = readFileSync(join(envPath, distInfo, 'METADATA'), 'utf8');
  } catch {
    // name and version from the directory name then
  }
  const stem = entry.slice(0, -'.dist-info'.length);
  const dash = stem.lastIndexOf('-');
  return {
    name: header(metadata, 'Name') ?? (dash > 0 ? stem.slice(0, dash) : stem),
    version: header(metadata, 'Version') ?? (dash > 0 ? stem.slice(dash + 1) : ''),
  };
}

/**
 * The distributions installed in the environment, sorted by name. `reuse` may answer for a
 * dist-info whose RECORD is known unchanged (a snapshot's previous state): its RECORD is not parsed.
 * With `only` (PEP 503 names), the others are left out unread.
 */
export function installedDists(
  envPath: string,
  sitePackages = sitePackagesOf(envPath),
  reuse?: (distInfo: string) => InstalledDist | undefined,
  only?: ReadonlySet<string>,
): InstalledDist[] {
  const dir = join(envPath, sitePackages);
  const out: InstalledDist[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith('.dist-info')) continue;
    const distInfo = join(sitePackages, entry);
    const known = reuse?.(distInfo);
    if (known) {
      out.push(known);
      continue;
    }
    const { name, version } = nameAndVersion(envPath, distInfo, entry);
    if (only && !only.has(normalizeName(name))) continue;
    let record: string;
    try {
      record = readFileSync(join(envPath, distInfo, 'RECORD'), 'utf8');
    } catch {
      continue; // half-installed or foreign: pip ignores these too
    }
    const paths = new Set<string>();
    for (const p of recordPaths(record)) {
      const rel = insideEnv(envPath, sitePackages, p);
      if (rel) paths.add(rel);
    }
    paths.add(join(distInfo, 'RECORD'));
    out.push({ name, version, distInfo, paths: [...paths].sort() });
  }
  return out.sort((a, b) => byText(a.distInfo, b.distInfo));
}
