/**
 * Requirements files as locks: every line `name==version` (or `name @ url`) with `--hash=sha256:…`,
 * the form pip installs with `--require-hashes`. The reader takes what pip-compile --generate-hashes,
 * `uv export` and `blast save --lock` write; anything it cannot pin exactly is an error, not a guess.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import { archiveFromUrl, versionFromFilename } from './filenames.js';
import type { Lock, LockedDist } from './types.js';

export interface WriteHeader {
  python: string;
  env: string;
  createdAt: string;
}

/** The text of a requirements lock. */
export function writeRequirements(dists: LockedDist[], header: WriteHeader): string {
  const lines = [
    `# Written by \`blast save --lock\` from ${header.env} (Python ${header.python}) at ${header.createdAt}.`,
    '# Every distribution is pinned with the sha256 of its archive; install it with',
    '#   blast load --lock FILE   or   pip install --no-deps --require-hashes -r FILE',
  ];
  for (const d of [...dists].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1))) {
    const url = d.direct ? d.archives.find((a) => a.url)?.url : undefined;
    const head = url ? `${d.name} @ ${url}` : `${d.name}==${d.version}`;
    const hashes = [...new Set(d.archives.map((a) => a.sha256))].map((h) => `    --hash=sha256:${h}`);
    lines.push([head + (d.marker ? ` ; ${d.marker}` : ''), ...hashes].join(' \\\n'));
  }
  return lines.join('\n') + '\n';
}

/** Options a lock may carry for pip: where to find the archives. */
const INDEX_OPTIONS = new Map<string, string>([
  ['-i', '--index-url'],
  ['--index-url', '--index-url'],
  ['--extra-index-url', '--extra-index-url'],
  ['-f', '--find-links'],
  ['--find-links', '--find-links'],
  ['--trusted-host', '--trusted-host'],
]);

/** Logical lines: comments dropped, `\` continuations joined, with the number of their first line. */
function logicalLines(text: string): { line: string; at: number }[] {
  const out: { line: string; at: number }[] = [];
  let pending = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    // A comment starts at a # at the line's start or after whitespace (a URL's #fragment is not one).
    const stripped = raw.replace(/(^|\s)#.*$/, '$1');
    if (pending === '') start = i + 1;
    if (/\\\s*$/.test(stripped)) {
      pending += stripped.replace(/\\\s*$/, ' ');
      return;
    }
    const full = (pending + stripped).trim();
    pending = '';
    if (full) out.push({ line: full, at: start });
  });
  if (pending.trim()) out.push({ line: pending.trim(), at: start });
  return out;
}

/** Split on whitespace outside quotes (markers quote their values). */
function words(line: string): string[] {
  return line.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
}

/** Read a requirements lock; `file` names it in errors and anchors relative --find-links. */
export function parseRequirements(text: string, file: string): Lock {
  const lock: Lock = { format: 'requirements', file, distributions: [], pipOptions: [] };
  const fail = (at: number, why: string, hint?: string): never => {
    throw new BlastError(`${file}, line ${at}: ${why}`, ExitCode.usage, hint);
  };
  for (const { line, at } of logicalLines(text)) {
    if (line.startsWith('-')) {
      const [opt, inlineValue] = line.split(/[= ]\s*/, 2) as [string, string | undefined];
      const value = inlineValue?.trim();
      if (opt === '--no-index') {
        lock.pipOptions.push('--no-index');
        continue;
      }
      const canonical = INDEX_OPTIONS.get(opt);
      if (!canonical || !value) {
        fail(
          at,
          `${opt} is not something a lock can say.`,
          'A lock pins every distribution itself: only --index-url, --extra-index-url, --find-links, --trusted-host and --no-index may appear.',
        );
      }
      // pip reads a relative --find-links against the requirements file's directory; the file pip
      // gets is elsewhere, so it is made absolute here.
      const local = canonical === '--find-links' && !/^[a-z][a-z0-9+.-]*:/i.test(value!);
      lock.pipOptions.push(
        `${canonical} ${local && !isAbsolute(value!) ? resolve(dirname(file), value!) : value}`,
      );
      continue;
    }
    const parts = words(line);
    const hashes: string[] = [];
    const rest: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p === '--hash') hashes.push(parts[++i] ?? '');
      else if (p.startsWith('--hash=')) hashes.push(p.slice('--hash='.length));
      else if (p.startsWith('-')) fail(at, `the option ${p} is not allowed on a requirement line.`);
      else rest.push(p);
    }
    const spec = rest.join(' ');
    const semi = spec.search(/;/);
    const requirement = (semi < 0 ? spec : spec.slice(0, semi)).trim();
    const marker = semi < 0 ? undefined : spec.slice(semi + 1).trim() || undefined;
    const sha256 = hashes.map((h) => {
      const m = /^sha256:([0-9a-fA-F]{64})$/.exec(h);
      if (!m)
        fail(
          at,
          `--hash=${h} is not a sha256 hash.`,
          'Blast checks archives by sha256 (what pip-compile and uv write).',
        );
      return m![1]!.toLowerCase();
    });
    let dist: LockedDist;
    const direct = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@\s*(\S+)$/.exec(requirement);
    const pinned = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*===?\s*([^\s,;]+)$/.exec(requirement);
    if (direct) {
      const url = direct[3]!;
      const archive = archiveFromUrl(url);
      const version = archive?.filename ? versionFromFilename(archive.filename, direct[1]!) : undefined;
      if (!archive || !version)
        fail(
          at,
          `cannot tell the version of ${direct[1]} from ${url}.`,
          'Lock archives (wheels or sdists), not directories or VCS checkouts.',
        );
      dist = {
        name: direct[1]!,
        version: version!,
        direct: true,
        archives: sha256.map((h) => ({ ...archive!, sha256: h })),
      };
    } else if (pinned) {
      dist = {
        name: pinned[1]!,
        version: pinned[3]!,
        archives: sha256.map((h) => ({ kind: 'archive', sha256: h })),
      };
    } else {
      fail(
        at,
        `${JSON.stringify(requirement)} is not pinned to one version (name==version or name @ URL).`,
        'Write the lock with `blast save --lock`, `pip-compile --generate-hashes` or `uv export`.',
      );
    }
    if (sha256.length === 0) {
      fail(
        at,
        `${dist!.name} has no --hash, so its archive cannot be checked.`,
        'pip-compile needs --generate-hashes for that.',
      );
    }
    if (marker) dist!.marker = marker;
    lock.distributions.push(dist!);
  }
  return lock;
}
