/**
 * Tiny sdists for tests, with an in-tree build backend (`backend-path` in pyproject.toml): pip
 * builds them with no setuptools and no index. The backend writes a wheel with zipfile, like
 * wheels.ts; `build` is Python run by every backend hook before it does its work (a hostile
 * build: read a secret, write somewhere, connect to a socket), and whatever it leaves in the
 * variable `VALUE` becomes `<name>.VALUE` in the built package.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BACKEND = String.raw`
import base64, hashlib, os, zipfile

NAME = %(name)r
VERSION = %(version)r
VALUE = NAME + ' ' + VERSION + ' works'

%(build)s

def _dist():
    return '%s-%s.dist-info' % (NAME, VERSION)

def _metadata():
    return 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' % (NAME, VERSION)

def get_requires_for_build_wheel(config_settings=None):
    return []

def get_requires_for_build_sdist(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, _dist())
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, 'METADATA'), 'w') as f:
        f.write(_metadata())
    return _dist()

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist = _dist()
    files = {
        NAME + '/__init__.py': 'VALUE = %%r\n' %% VALUE,
        dist + '/METADATA': _metadata(),
        dist + '/WHEEL': 'Wheel-Version: 1.0\nGenerator: blast-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    }
    files = {p: t.encode('utf-8') for p, t in files.items()}
    def digest(data):
        return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode('ascii')
    record = ''.join('%%s,%%s,%%d\n' %% (p, digest(d), len(d)) for p, d in sorted(files.items()))
    files[dist + '/RECORD'] = (record + dist + '/RECORD,,\n').encode('utf-8')
    name = '%%s-%%s-py3-none-any.whl' %% (NAME, VERSION)
    with zipfile.ZipFile(os.path.join(wheel_directory, name), 'w') as z:
        for p, d in files.items():
            z.writestr(p, d)
    return name
`;

const PACK = String.raw`
import io, sys, tarfile, time
out, name, version, backend = sys.argv[1:5]
root = '%s-%s' % (name, version)
files = {
    'pyproject.toml': '[build-system]\nrequires = []\nbuild-backend = "tinybackend"\nbackend-path = ["backend"]\n\n[project]\nname = "%s"\nversion = "%s"\n' % (name, version),
    'PKG-INFO': 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' % (name, version),
    'backend/tinybackend.py': backend,
    name + '/__init__.py': '',
}
with tarfile.open(out, 'w:gz') as tar:
    for path, text in files.items():
        data = text.encode('utf-8')
        info = tarfile.TarInfo('%s/%s' % (root, path))
        info.size = len(data)
        info.mtime = int(time.time())
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
`;

export interface TinySdist {
  path: string;
  name: string;
  version: string;
  /** What `import <name>; <name>.VALUE` gives when `build` leaves VALUE alone. */
  value: string;
}

/**
 * Write `<name>-<version>.tar.gz` into `dir` with `python`'s tarfile. `build`: Python at the top
 * of the backend module (runs in every hook pip calls), may set `VALUE`.
 */
export function buildSdist(
  python: string,
  dir: string,
  name: string,
  version = '1.0',
  build = '',
): TinySdist {
  const backend = BACKEND.replace(/%%/g, '%')
    .replace('%(name)r', () => JSON.stringify(name))
    .replace('%(version)r', () => JSON.stringify(version))
    .replace('%(build)s', () => build);
  const path = join(dir, `${name}-${version}.tar.gz`);
  execFileSync(python, ['-E', '-s', '-c', PACK, path, name, version, backend], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { path, name, version, value: `${name} ${version} works` };
}
