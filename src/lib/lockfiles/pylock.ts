/**
 * PEP 751 `pylock.toml`: written with one inline table per archive (as uv and pip write it, so a
 * diff shows one line per changed file); read as far as an installer of archives needs: packages
 * with a version and wheels/sdist/archive that have a url or path and a sha256. VCS and directory
 * packages are refused by name, never silently dropped.
 */
import { parse, TomlError } from 'smol-toml';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { Lock, LockedArchive, LockedDist } from './types.js';

/** A TOML basic string (JSON's escapes are all valid TOML ones). */
const str = (s: string) => JSON.stringify(s);

function inlineArchive(a: LockedArchive): string {
  const fields: string[] = [];
  if (a.filename && a.kind !== 'archive') fields.push(`name = ${str(a.filename)}`);
  if (a.url) fields.push(`url = ${str(a.url)}`);
  if (a.path) fields.push(`path = ${str(a.path)}`);
  if (a.size !== undefined) fields.push(`size = ${a.size}`);
  fields.push(`hashes = { sha256 = ${str(a.sha256)} }`);
  return `{ ${fields.join(', ')} }`;
}

export interface PylockHeader {
  /** `X.Y.Z`: the lock is for this Python's minor version. */
  python: string;
}

export function writePylock(dists: LockedDist[], header: PylockHeader): string {
  const [major, minor] = header.python.split('.');
  const lines = ['lock-version = "1.0"', 'created-by = "blast"'];
  // The archives were chosen by pip for this interpreter: only its minor version is promised.
  if (major && minor) lines.push(`requires-python = ${str(`==${major}.${minor}.*`)}`);
  // An empty environment is a valid lock too: `packages` is required.
  if (dists.length === 0) lines.push('packages = []');
  for (const d of [...dists].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1))) {
    lines.push('', '[[packages]]', `name = ${str(d.name)}`, `version = ${str(d.version)}`);
    if (d.marker) lines.push(`marker = ${str(d.marker)}`);
    const wheels = d.archives.filter((a) => a.kind === 'wheel');
    const sdist = d.archives.find((a) => a.kind === 'sdist');
    const other = d.archives.find((a) => a.kind === 'archive');
    if (wheels.length) lines.push(`wheels = [`, ...wheels.map((w) => `  ${inlineArchive(w)},`), `]`);
    if (sdist) lines.push(`sdist = ${inlineArchive(sdist)}`);
    if (other && !wheels.length && !sdist) lines.push(`archive = ${inlineArchive(other)}`);
  }
  return lines.join('\n') + '\n';
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read a pylock.toml; `file` names it in errors and anchors relative paths. */
export function parsePylock(text: string, file: string): Lock {
  const fail = (why: string, hint?: string): never => {
    throw new BlastError(`${file}: ${why}`, ExitCode.usage, hint);
  };
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line})` : '';
    return fail(`not valid TOML${where}: ${(error as Error).message.split('\n')[0]}`);
  }
  const version = doc['lock-version'];
  if (typeof version !== 'string' || !/^1\.\d+$/.test(version)) {
    fail(
      `lock-version ${JSON.stringify(version)} is not one Blast reads.`,
      'Blast reads PEP 751 lock-version 1.x.',
    );
  }
  if (!Array.isArray(doc.packages)) fail('it has no [[packages]].');
  const lock: Lock = { format: 'pylock', file, distributions: [], pipOptions: [] };
  if (typeof doc['requires-python'] === 'string') lock.requiresPython = doc['requires-python'];
  if (Array.isArray(doc.environments))
    lock.environments = doc.environments.filter((e) => typeof e === 'string');
  (doc.packages as unknown[]).forEach((p, i) => {
    if (!isTable(p) || typeof p.name !== 'string') return fail(`package #${i + 1} has no name.`);
    const name = p.name;
    if (p.vcs !== undefined || p.directory !== undefined) {
      fail(
        `${name} comes from a ${p.vcs !== undefined ? 'VCS checkout' : 'directory'}, which has no archive hash to check.`,
        'Lock it as a wheel or an sdist, or install it yourself after `blast load --lock`.',
      );
    }
    if (typeof p.version !== 'string') fail(`${name} has no version.`);
    const archive = (t: unknown, kind: LockedArchive['kind'], where: string): LockedArchive => {
      if (!isTable(t)) return fail(`${name}: ${where} is not a table.`);
      const hashes = t.hashes;
      const sha = isTable(hashes) ? hashes.sha256 : undefined;
      if (typeof sha !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha)) {
        fail(`${name}: ${where} has no sha256 hash.`, 'Blast checks every archive by its sha256.');
      }
      const a: LockedArchive = { kind, sha256: (sha as string).toLowerCase() };
      if (typeof t.name === 'string') a.filename = t.name;
      if (typeof t.url === 'string') a.url = t.url;
      if (typeof t.path === 'string') a.path = t.path;
      if (typeof t.size === 'number') a.size = t.size;
      if (!a.filename) {
        const from = a.url ?? a.path;
        const last = from?.split(/[/\\]/).pop()?.split(/[?#]/)[0];
        if (last) a.filename = decodeURIComponent(last);
      }
      return a;
    };
    const archives: LockedArchive[] = [];
    if (p.wheels !== undefined) {
      if (!Array.isArray(p.wheels)) fail(`${name}: wheels is not an array.`);
      (p.wheels as unknown[]).forEach((w, j) => archives.push(archive(w, 'wheel', `wheel #${j + 1}`)));
    }
    if (p.sdist !== undefined) archives.push(archive(p.sdist, 'sdist', 'sdist'));
    if (p.archive !== undefined) archives.push(archive(p.archive, 'archive', 'archive'));
    if (archives.length === 0) fail(`${name} ${p.version as string} has no wheels, sdist or archive.`);
    const dist: LockedDist = { name, version: p.version as string, archives };
    if (typeof p.marker === 'string') dist.marker = p.marker;
    lock.distributions.push(dist);
  });
  return lock;
}
