/**
 * Tiny wheels for tests, built with a real Python's zipfile so no network and no build
 * backend is involved: `<name>/__init__.py` plus a dist-info (METADATA, WHEEL, RECORD).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BUILD = String.raw`
import base64, hashlib, sys, zipfile
out, name, version, value = sys.argv[1:5]
dist = '%s-%s.dist-info' % (name, version)
files = {
    name + '/__init__.py': 'VALUE = %r\n' % value,
    dist + '/METADATA': 'Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: a test package\n' % (name, version),
    dist + '/WHEEL': 'Wheel-Version: 1.0\nGenerator: blast-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
}
def digest(data):
    return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode('ascii')
record = ''.join('%s,%s,%d\n' % (path, digest(text.encode('utf-8')), len(text.encode('utf-8'))) for path, text in sorted(files.items()))
record += dist + '/RECORD,,\n'
files[dist + '/RECORD'] = record
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for path, text in files.items():
        z.writestr(path, text)
`;

export interface TinyWheel {
  path: string;
  name: string;
  version: string;
  /** What `import <name>; <name>.VALUE` gives. */
  value: string;
}

/** Write `<name>-<version>-py3-none-any.whl` into `dir` using `python`'s zipfile. */
export function buildWheel(python: string, dir: string, name = 'tinypkg', version = '1.0'): TinyWheel {
  const value = `${name} ${version} works`;
  const path = join(dir, `${name}-${version}-py3-none-any.whl`);
  execFileSync(python, ['-E', '-s', '-c', BUILD, path, name, version, value], {
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
