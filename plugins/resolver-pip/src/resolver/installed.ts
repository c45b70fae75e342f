/**
 * The distributions installed in an environment, read from `*.dist-info/METADATA` in its
 * site-packages (what pip itself reads): name, version and Requires-Dist. No Python is started.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeName } from './requirement.js';

export interface Distribution {
  name: string;
  key: string;
  version: string;
  /** Requires-Dist lines, unparsed. */
  requires: string[];
}

/** Name → values of the header part of a METADATA file (RFC 822 style; folded lines joined). */
export function parseMetadata(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the body (description) starts
    if (/^[ \t]/.test(line) && last) {
      last[last.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
    last = values;
  }
  return headers;
}

/** `lib/pythonX.Y/site-packages` (or every `lib/python*` one when the version is not known). */
export async function sitePackagesDirs(envPath: string, pythonVersion?: string): Promise<string[]> {
  const short = pythonVersion?.split('.').slice(0, 2).join('.');
  const libs = await readdir(join(envPath, 'lib')).catch(() => [] as string[]);
  const chosen = libs.filter((d) => d === `python${short}`);
  const dirs = (chosen.length > 0 ? chosen : libs.filter((d) => d.startsWith('python'))).map((d) =>
    join(envPath, 'lib', d, 'site-packages'),
  );
  return dirs;
}

export async function installedDistributions(
  envPath: string,
  pythonVersion?: string,
): Promise<Map<string, Distribution>> {
  const out = new Map<string, Distribution>();
  for (const dir of await sitePackagesDirs(envPath, pythonVersion)) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    const metas = await Promise.all(
      entries
        .filter((e) => e.endsWith('.dist-info'))
        .map((e) => readFile(join(dir, e, 'METADATA'), 'utf8').catch(() => undefined)),
    );
    for (const text of metas) {
      if (text === undefined) continue;
      const headers = parseMetadata(text);
      const name = headers.get('name')?.[0];
      const version = headers.get('version')?.[0];
      if (!name || !version) continue;
      const key = normalizeName(name);
      // pip uses the first one found on sys.path; keep the first, as it does.
      if (!out.has(key)) out.set(key, { name, key, version, requires: headers.get('requires-dist') ?? [] });
    }
  }
  return out;
}
