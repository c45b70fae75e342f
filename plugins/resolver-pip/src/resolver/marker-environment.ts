/**
 * An interpreter's PEP 508 marker environment (what packaging's default_environment() computes),
 * for markers when there is no pip report: after a `blast load`, an uninstall's analysis, `blast
 * check`. Asking the interpreter costs a Python start (30–50 ms, on every rollback), and the
 * answer changes only with the interpreter's binary or the kernel (platform_release and
 * platform_version are uname's): it is kept in `<cacheDir>/resolver-pip/markers.json` under
 * exactly those, and asked again when any of them differs. A lost or unreadable cache only costs
 * asking again.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { machine, release, version } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MarkerEnvironment } from './markers.js';
import { pythonOf } from './pip.js';
import { replaceFile } from './replace-file.js';

const MARKER_ENV = String.raw`
import json, os, platform, sys
i = sys.implementation.version
v = '%d.%d.%d' % (i.major, i.minor, i.micro)
if i.releaselevel != 'final':
    v += i.releaselevel[0] + str(i.serial)
print(json.dumps({'implementation_name': sys.implementation.name, 'implementation_version': v,
  'os_name': os.name, 'platform_machine': platform.machine(), 'platform_release': platform.release(),
  'platform_system': platform.system(), 'platform_version': platform.version(),
  'python_full_version': platform.python_version(),
  'platform_python_implementation': platform.python_implementation(),
  'python_version': '.'.join(platform.python_version_tuple()[:2]), 'sys_platform': sys.platform}))
`;

/** The names MARKER_ENV answers: a cached entry without every one of them is asked again. */
const MARKERS = [
  'implementation_name',
  'implementation_version',
  'os_name',
  'platform_machine',
  'platform_release',
  'platform_system',
  'platform_version',
  'python_full_version',
  'platform_python_implementation',
  'python_version',
  'sys_platform',
];

/** More interpreters than one machine has: past it the cache starts over rather than grow. */
const MAX_ENTRIES = 64;

/** What the answer depends on: the interpreter's binary (by inode and stat) and the kernel. */
function interpreterKey(python: string): string | undefined {
  try {
    const real = realpathSync(python);
    const st = statSync(real);
    return [real, st.dev, st.ino, st.size, st.mtimeMs, release(), version(), machine()].join('\0');
  } catch {
    return undefined;
  }
}

function complete(value: unknown): value is MarkerEnvironment {
  if (!value || typeof value !== 'object') return false;
  const o = value as Record<string, unknown>;
  return MARKERS.every((m) => typeof o[m] === 'string');
}

function readCache(file: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** The marker environment of the environment's interpreter; cached under `cacheDir` when given. */
export async function markerEnvironment(envPath: string, cacheDir?: string): Promise<MarkerEnvironment> {
  const python = pythonOf(envPath);
  const key = cacheDir === undefined ? undefined : interpreterKey(python);
  const file = cacheDir === undefined ? undefined : join(cacheDir, 'resolver-pip', 'markers.json');
  const cached = file && key ? readCache(file) : {};
  if (key && complete(cached[key])) return cached[key];
  const { stdout } = await promisify(execFile)(python, ['-E', '-s', '-c', MARKER_ENV]);
  const environment = JSON.parse(stdout) as MarkerEnvironment;
  if (file && key && complete(environment)) {
    const kept = Object.keys(cached).length < MAX_ENTRIES ? cached : {};
    try {
      mkdirSync(join(cacheDir!, 'resolver-pip'), { recursive: true });
      replaceFile(file, JSON.stringify({ ...kept, [key]: environment }) + '\n');
    } catch {
      // a read-only or full cache: asked again next time
    }
  }
  return environment;
}
