/**
 * The sha256 of the archive each installed distribution would be installed from, for a lock.
 *
 * An installed distribution keeps no trace of its archive, so pip is asked: one
 * `pip install --dry-run --ignore-installed --no-deps --report` for all of them finds each
 * `name==version` where the user's pip finds it (their pip config, PIP_INDEX_URL, PIP_FIND_LINKS,
 * …) and reports its URL and, for local files and indexes that publish them, its hash. Archives it
 * reports no hash for are fetched with one `pip download --no-deps` and hashed here.
 *
 * Distributions installed from a URL say where and often with what hash in `direct_url.json`
 * (PEP 610); those are locked from it. pip itself and editable/directory/VCS installs are left
 * out, each with the reason.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { Env } from '../paths.js';
import {
  hashFile,
  type InstalledDist,
  knownWheels,
  ObjectStore,
  rememberWheels,
  type WheelNote,
  wheelOf,
} from '../store/index.js';
import { archiveFromUrl, archiveIsOf } from './filenames.js';
import { tail } from './pip.js';
import type { EnvInfo } from '../plugin-host/contract.js';
import { bareEnvInfo, runPipCapture, type PipWrap } from '../transaction/pip-process.js';
import { type LockedArchive, type LockedDist, type SkippedDist } from './types.js';
import { normalizeName } from '../python/names.js';

interface DirectUrl {
  url?: string;
  dir_info?: { editable?: boolean };
  vcs_info?: unknown;
  archive_info?: { hash?: string; hashes?: Record<string, string> };
}

function sha256Of(info: { hash?: string; hashes?: Record<string, string> } | undefined): string | undefined {
  const h = info?.hashes?.sha256 ?? (info?.hash?.startsWith('sha256=') ? info.hash.slice(7) : undefined);
  return h && /^[0-9a-fA-F]{64}$/.test(h) ? h.toLowerCase() : undefined;
}

/** A distribution installed from a URL: locked from its direct_url.json, or the reason it cannot be. */
function fromDirectUrl(dist: InstalledDist, direct: DirectUrl): LockedDist | SkippedDist {
  const skip = (reason: string): SkippedDist => ({ name: dist.name, version: dist.version, reason });
  if (direct.dir_info) {
    return skip(
      direct.dir_info.editable
        ? 'an editable install (no archive to hash)'
        : 'installed from a local directory (no archive to hash)',
    );
  }
  if (direct.vcs_info) return skip('installed from a VCS checkout (no archive to hash)');
  const url = direct.url;
  const archive = url ? archiveFromUrl(url) : undefined;
  if (!url || !archive) return skip('installed from a URL that is not a wheel or an sdist');
  let sha256 = sha256Of(direct.archive_info);
  if (!sha256 && url.startsWith('file:')) {
    const path = fileURLToPath(url);
    if (existsSync(path)) sha256 = hashFile(path);
  }
  if (!sha256) return skip(`installed from ${url}, whose hash pip did not record`);
  return { name: dist.name, version: dist.version, direct: true, archives: [{ ...archive, sha256 }] };
}

interface ReportItem {
  metadata?: { name?: string; version?: string };
  download_info?: { url?: string; archive_info?: { hash?: string; hashes?: Record<string, string> } };
}

/** sha256 of an installed distribution's METADATA (the key of its wheel's origin), if readable. */
function metadataSha(envPath: string, dist: InstalledDist): string | undefined {
  try {
    return hashFile(join(envPath, dist.distInfo, 'METADATA'));
  } catch {
    return undefined;
  }
}

export interface LockInputs {
  locked: LockedDist[];
  skipped: SkippedDist[];
}

export interface HashOptions {
  env?: Env;
  note?: (line: string) => void;
  /** The environment and the wrap event pip runs under (the install sandbox); pip runs as is without. */
  pip?: { info: EnvInfo; wrap: PipWrap };
}

const pipFailure = (what: string, stderr: string) =>
  new BlastError(
    `pip could not find the archives to hash (${what}); nothing was written:\n${tail(stderr)}`,
    ExitCode.failure,
    'The lock is made of archives your pip can find: check its index (pip config, PIP_INDEX_URL, PIP_FIND_LINKS) has these exact versions.',
  );

/** Lock entries (with archive hashes) for the environment's installed distributions. */
export async function lockInputs(
  envPath: string,
  dists: InstalledDist[],
  options: HashOptions = {},
): Promise<LockInputs> {
  const env = options.env ?? process.env;
  const note = options.note ?? (() => {});
  const locked: LockedDist[] = [];
  const skipped: SkippedDist[] = [];
  const fromIndex: InstalledDist[] = [];
  const store = ObjectStore.of(env);
  const known = knownWheels(store);
  for (const dist of dists) {
    if (normalizeName(dist.name) === 'pip') {
      skipped.push({
        name: dist.name,
        version: dist.version,
        reason: "the environment's own installer; left as it is",
      });
      continue;
    }
    let direct: DirectUrl | undefined;
    try {
      direct = JSON.parse(readFileSync(join(envPath, dist.distInfo, 'direct_url.json'), 'utf8')) as DirectUrl;
    } catch {
      direct = undefined; // from an index: the usual case
    }
    if (direct) {
      const entry = fromDirectUrl(dist, direct);
      if ('archives' in entry) locked.push(entry);
      else skipped.push(entry);
      continue;
    }
    // The wheel it was installed from, when the store knows it (a store-served install, or one
    // pip reported before): that very archive is pinned, and pip need not be asked (offline too).
    const metadata = metadataSha(envPath, dist);
    const origin = metadata ? wheelOf(store, dist.name, dist.version, metadata, known) : undefined;
    if (origin) {
      const archive = (origin.url ? archiveFromUrl(origin.url) : undefined) ?? {
        kind: 'wheel' as const,
        filename: origin.filename,
      };
      locked.push({
        name: dist.name,
        version: dist.version,
        archives: [{ ...archive, sha256: origin.sha256 }],
      });
    } else fromIndex.push(dist);
  }
  if (fromIndex.length === 0) return { locked, skipped };

  const temp = mkdtempSync(join(tmpdir(), 'blast-lock-'));
  try {
    const specs = fromIndex.map((d) => `${d.name}==${d.version}`);
    note(`asking pip where ${fromIndex.length} distribution(s) come from`);
    const report = join(temp, 'report.json');
    const common = ['--disable-pip-version-check', '--no-input'];
    // Through the one pip launcher (pip-process.ts): wrapped as every pip Blast runs.
    const runPip = (args: string[]) =>
      runPipCapture({
        info: options.pip?.info ?? bareEnvInfo(envPath),
        args,
        env,
        ...(options.pip ? { wrap: options.pip.wrap } : {}),
      });
    const dry = await runPip([
      ...common,
      'install',
      '--dry-run',
      '--ignore-installed',
      '--no-deps',
      '--quiet',
      '--report',
      report,
      ...specs,
    ]);
    if (dry.status !== 0) throw pipFailure('pip install --dry-run', dry.stderr);
    const items = (JSON.parse(readFileSync(report, 'utf8')) as { install?: ReportItem[] }).install ?? [];
    const reported = new Map<string, { url: string; sha256?: string }>();
    for (const item of items) {
      const name = item.metadata?.name;
      const url = item.download_info?.url;
      if (name && url)
        reported.set(normalizeName(name), { url, sha256: sha256Of(item.download_info?.archive_info) });
    }
    const unhashed = fromIndex.filter((d) => !reported.get(normalizeName(d.name))?.sha256);
    if (unhashed.length > 0) {
      note(`downloading ${unhashed.length} archive(s) to hash them`);
      const dest = join(temp, 'archives');
      const dl = await runPip([
        ...common,
        'download',
        '--no-deps',
        '--quiet',
        '--dest',
        dest,
        ...unhashed.map((d) => `${d.name}==${d.version}`),
      ]);
      if (dl.status !== 0) throw pipFailure('pip download', dl.stderr);
      const files = existsSync(dest) ? readdirSync(dest) : [];
      for (const d of unhashed) {
        const file = files.find((f) => archiveIsOf(f, d.name, d.version));
        const was = reported.get(normalizeName(d.name));
        if (file && was) was.sha256 = hashFile(join(dest, file));
      }
    }
    const notes: WheelNote[] = [];
    for (const d of fromIndex) {
      const found = reported.get(normalizeName(d.name));
      const archive = found ? archiveFromUrl(found.url) : undefined;
      if (!found?.sha256 || !archive) {
        throw new BlastError(
          `pip did not report an archive for ${d.name} ${d.version}; nothing was written.`,
          ExitCode.failure,
        );
      }
      const a: LockedArchive = { ...archive, sha256: found.sha256 };
      locked.push({ name: d.name, version: d.version, archives: [a] });
      const metadata = metadataSha(envPath, d);
      if (metadata && a.filename)
        notes.push({
          name: d.name,
          version: d.version,
          metadataSha256: metadata,
          filename: a.filename,
          sha256: a.sha256,
          ...(a.url ? { url: a.url } : {}),
        });
    }
    try {
      rememberWheels(store, notes);
    } catch {
      // the lock is written all the same; the next one asks pip again
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return { locked, skipped };
}
