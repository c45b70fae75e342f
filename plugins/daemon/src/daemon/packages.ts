/** The installed distributions of a venv, read from its `*.dist-info` directories. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Normalized name (PEP 503) → version. */
export type Packages = Record<string, string>;

export interface Change {
  added: Array<{ name: string; version: string }>;
  removed: Array<{ name: string; version: string }>;
  upgraded: Array<{ name: string; from: string; to: string }>;
}

/** PEP 503 normalised name: the plugin's one copy of the core's rule (a plugin cannot import the core). */
export function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** `<env>/lib/pythonX.Y/site-packages` (usually one). */
export function sitePackagesDirs(envPath: string): string[] {
  const lib = join(envPath, 'lib');
  try {
    return readdirSync(lib)
      .filter((name) => /^(python|pypy)\d/.test(name))
      .map((name) => join(lib, name, 'site-packages'));
  } catch {
    return [];
  }
}

function metadata(dir: string): { name?: string; version?: string } {
  try {
    const head = readFileSync(join(dir, 'METADATA'), 'utf8').split(/\r?\n\r?\n/, 1)[0] ?? '';
    const field = (key: string) => new RegExp(`^${key}:[ \\t]*(.+?)\\s*$`, 'mi').exec(head)?.[1];
    return { name: field('Name'), version: field('Version') };
  } catch {
    return {};
  }
}

export function scanPackages(dirs: string[]): Packages {
  const found: Packages = {};
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of names) {
      const match = /^([^-]+)-(.+)\.dist-info$/.exec(entry);
      if (!match) continue;
      const meta = metadata(join(dir, entry));
      found[normalize(meta.name ?? match[1]!)] = meta.version ?? match[2]!;
    }
  }
  return found;
}

export function diff(before: Packages, after: Packages): Change | undefined {
  const change: Change = { added: [], removed: [], upgraded: [] };
  for (const [name, version] of Object.entries(after)) {
    const old = before[name];
    if (old === undefined) change.added.push({ name, version });
    else if (old !== version) change.upgraded.push({ name, from: old, to: version });
  }
  for (const [name, version] of Object.entries(before))
    if (!(name in after)) change.removed.push({ name, version });
  const empty = change.added.length + change.removed.length + change.upgraded.length === 0;
  return empty ? undefined : change;
}
