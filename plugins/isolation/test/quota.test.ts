/**
 * The disk quota through a real pip transaction (`blast pip`, as the shim runs it): an install
 * that would take the environment past its quota is rolled back and the environment's file tree
 * is exactly as before; one that fits goes through.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { supportedByVersion } from '../../../test/python/world.js';
import { blast, sandbox, throughFunction, type Run, type Sandbox } from '../../../test/support/cli.js';
import { buildWheel, isolatedPipEnv } from '../../../test/support/wheels.js';
import { tree, treeDiff } from '../../../test/store/world.js';
import { diskUsage } from '../src/disk.js';
import { formatBytes } from '../src/policy.js';
import { configure, envPath as pathOf } from './support.js';

/** A wheel with one incompressible-on-disk file of `mb` megabytes (too big for an argv, so built here). */
const BIG_WHEEL = String.raw`
import base64, hashlib, sys, zipfile
out, mb = sys.argv[1], int(sys.argv[2])
dist = 'big-1.0.dist-info'
files = {
    'big/__init__.py': b'',
    'big/data.bin': b'x' * (mb * 1024 * 1024),
    dist + '/METADATA': b'Metadata-Version: 2.1\nName: big\nVersion: 1.0\n',
    dist + '/WHEEL': b'Wheel-Version: 1.0\nGenerator: blast-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
}
digest = lambda d: 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()
record = ''.join('%s,%s,%d\n' % (p, digest(d), len(d)) for p, d in sorted(files.items())) + dist + '/RECORD,,\n'
files[dist + '/RECORD'] = record.encode()
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for p, d in files.items():
        z.writestr(p, d)
`;

describe('isolation: disk quota (real pip transaction)', function () {
  this.timeout(180_000);
  let box: Sandbox;
  let wheels: string;
  let envPath: string;
  let state: string;

  const pip = (...args: string[]): Run => {
    const env: Record<string, string> = { BLAST_SHELL_STATE: state };
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return blast(box, ['pip', '--', 'install', '--no-index', '--find-links', wheels, ...args], { env });
  };
  const envTree = () => tree(envPath, (rel) => rel === 'blast.json');

  before(async () => {
    const py = (await supportedByVersion()).at(-1);
    if (!py) throw new Error('no supported Python on this machine');
    box = sandbox();
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    buildWheel(py.executable, wheels, 'small', '1.0');
    execFileSync(py.executable, ['-c', BIG_WHEEL, join(wheels, 'big-1.0-py3-none-any.whl'), '4']);
    const run = throughFunction(box, ['start', 'quota']);
    expect(run.status, run.stderr).to.equal(0);
    state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(run.script)![1]!;
    envPath = pathOf(box, 'quota');
  });
  after(() => box?.cleanup());

  it('an install past the quota is rolled back with a clear message; the environment is unchanged; one that fits goes through', async () => {
    // Room for 2 MB more: the 4 MB package does not fit, a tiny one does.
    const quota = (await diskUsage(envPath)) + 2 * 1024 * 1024;
    configure(box, 'quota', `disk-quota=${quota}`);
    const before = envTree();

    const over = pip('big');
    expect(over.status).to.equal(1);
    expect(over.stderr).to.include('postInstall failed in plugin @blast/isolation');
    expect(over.stderr).to.match(/quota would take \S+ on disk, over its disk quota of /);
    expect(over.stderr).to.include(formatBytes(quota));
    expect(over.stderr).to.include('the environment was put back as it was before this pip command');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);

    const fits = pip('small');
    expect(fits.status, fits.stderr).to.equal(0);
    expect(fits.stdout).to.include('Successfully installed small-1.0');

    // Without a quota the big one installs: it was the quota that stopped it.
    const unset = blast(box, ['config', '--env', 'quota', '--unset', 'disk-quota']);
    expect(unset.status, unset.stderr).to.equal(0);
    const free = pip('big');
    expect(free.status, free.stderr).to.equal(0);
  });
  it('`blast load` is held to the quota too: a snapshot that would not fit is rolled back', async () => {
    // State now: big and small installed, no quota. A snapshot with them, then big goes.
    const save = blast(box, ['save', '--env', 'quota', 'with-big']);
    expect(save.status, save.stderr).to.equal(0);
    const env: Record<string, string> = { BLAST_SHELL_STATE: state };
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    const removed = blast(box, ['pip', '--', 'uninstall', '-y', 'big'], { env });
    expect(removed.status, removed.stderr).to.equal(0);
    const quota = (await diskUsage(envPath)) + 2 * 1024 * 1024;
    configure(box, 'quota', `disk-quota=${quota}`);
    const before = envTree();
    const config = () => readFileSync(join(envPath, 'blast.json'), 'utf8');
    const configBefore = config();
    expect(configBefore).to.include('disk-quota');
    const run = blast(box, ['load', '--env', 'quota', 'with-big']);
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('postInstall failed in plugin @blast/isolation');
    expect(run.stderr).to.match(/quota would take \S+ on disk, over its disk quota of /);
    expect(run.stderr).to.include('quota was put back as it was before loading with-big');
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
    // The snapshot's settings (no quota) were not restored either: the quota still holds.
    expect(config()).to.equal(configBefore);
  });
});
