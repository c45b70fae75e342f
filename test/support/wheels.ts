/**
 * Tiny wheels for tests, built with a real Python's zipfile so no network and no build
 * backend is involved: `<name>/__init__.py` plus a dist-info (METADATA, WHEEL, RECORD).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BUILD = String.raw`
import base64, hashlib, json, os, sys, zipfile
out, name, version, value = sys.argv[1:5]
extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
dist = '%s-%s.dist-info' % (name, version)
init = 'VALUE = %r\n' % value
if extra.get('script'):
    init += '__version__ = %r\n\ndef main():\n    print(VALUE)\n' % version
files = {
    name + '/__init__.py': init,
    dist + '/METADATA': 'Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: a test package\n' % (name, version),
    dist + '/WHEEL': 'Wheel-Version: 1.0\nGenerator: blast-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
}
if extra.get('script'):
    files[dist + '/entry_points.txt'] = '[console_scripts]\n%s = %s:main\n' % (extra['script'], name)
files.update(extra.get('files', {}))
files = {path: text.encode('utf-8') for path, text in files.items()}
files.update({path: os.urandom(size) for path, size in extra.get('random', {}).items()})
def digest(data):
    return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode('ascii')
record = ''.join('%s,%s,%d\n' % (path, digest(data), len(data)) for path, data in sorted(files.items()))
record += dist + '/RECORD,,\n'
files[dist + '/RECORD'] = record.encode('utf-8')
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for path, data in files.items():
        z.writestr(path, data)
`;

export interface TinyWheel {
  path: string;
  name: string;
  version: string;
  /** What `import <name>; <name>.VALUE` gives. */
  value: string;
}

export interface WheelExtras {
  /** A console script of this name running `<name>:main` (which prints VALUE); adds `__version__` too. */
  script?: string;
  /** More files, by their path in the wheel. */
  files?: Record<string, string>;
  /** More files of this many random (incompressible) bytes, by their path in the wheel: a wheel that fills a disk. */
  random?: Record<string, number>;
}

/** Write `<name>-<version>-py3-none-any.whl` into `dir` using `python`'s zipfile. */
export function buildWheel(
  python: string,
  dir: string,
  name = 'tinypkg',
  version = '1.0',
  extras: WheelExtras = {},
): TinyWheel {
  const value = `${name} ${version} works`;
  const path = join(dir, `${name}-${version}-py3-none-any.whl`);
  execFileSync(python, ['-E', '-s', '-c', BUILD, path, name, version, value, JSON.stringify(extras)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { path, name, version, value };
}

/** An environment for running pip that ignores this machine's pip configuration (indexes, find-links). */
export function isolatedPipEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k.startsWith('PIP_') || k.startsWith('PYTHON') || k === 'VIRTUAL_ENV') continue;
    env[k] = v;
  }
  env.PIP_CONFIG_FILE = '/dev/null';
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1';
  env.PIP_NO_INPUT = '1';
  return env;
}
