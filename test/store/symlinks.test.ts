/**
 * Restores, rollbacks and removals never write or delete through a symbolic link, nor outside the
 * environment: a package directory the user replaced by a link to a checkout, and a crafted
 * snapshot with a link entry and a file "under" it. Real CLI, real pip, wheels built here.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { killDaemons } from '../../plugins/daemon/test/support.js';
import { decodeState } from '../../src/lib/shell/activation.js';
import {
  listRevisions,
  ObjectStore,
  parseManifest,
  snapshotsDir,
  type Manifest,
} from '../../src/lib/store/index.js';
import { blast, sandbox, throughFunction, type Run, type Sandbox } from '../support/cli.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';
import { tree, treeDiff } from './world.js';

describe('nothing is written or removed through a symbolic link (real CLI, real pip)', function () {
  this.timeout(240_000);
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
  let state: string;
  let sitePackages: string;
  let checkout: string;
  let pristine: ReturnType<typeof checkoutState>;

  const env = () => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) out[k] = v;
    return out;
  };
  const pip = (...args: string[]): Run =>
    blast(
      box,
      ['pip', '--', ...args, ...(args[0] === 'install' ? ['--no-index', '--find-links', wheels] : [])],
      {
        env: { ...env(), BLAST_SHELL_STATE: state },
      },
    );
  const ok = (run: Run) => {
    expect(run.status, run.stderr).to.equal(0);
    return run;
  };
  /**
   * The checkout's files, and how many links each inode has: always 1, i.e. never hard-linked
   * into Blast's store (where a later in-place edit would change a stored object, and read-only
   * protection would change the user's file).
   */
  const checkoutState = () => {
    const files: Record<string, number> = {};
    for (const name of readdirSync(checkout)) files[name] = lstatSync(join(checkout, name)).nlink;
    return { tree: tree(checkout), nlinks: files };
  };
  const envTree = () => tree(envPath, (rel) => rel === 'blast.json' || rel.endsWith('__pycache__'));

  /** site-packages/alpha becomes a link to the user's checkout (as a developer does by hand). */
  const plantLink = () => {
    const alpha = join(envPath, sitePackages, 'alpha');
    renameSync(alpha, join(box.root, 'alpha-installed'));
    symlinkSync(checkout, alpha);
  };
  const removeLink = () => {
    const alpha = join(envPath, sitePackages, 'alpha');
    rmSync(alpha);
    renameSync(join(box.root, 'alpha-installed'), alpha);
  };

  before(() => {
    box = sandbox();
    const start = throughFunction(box, ['start', 'demo']);
    expect(start.status, start.stderr).to.equal(0);
    killDaemons(box); // its `blast record` would race the test's own changes
    state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(start.script)![1]!;
    envPath = decodeState(state).env.path;
    const python = join(envPath, 'bin', 'python');
    const version = execFileSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
    }).trim();
    sitePackages = `lib/python${version}/site-packages`;
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/extra.py': 'X = 2\n' } });
    buildWheel(python, wheels, 'broken', '1.0', {
      files: {
        'broken-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n',
        'broken-1.0.dist-info/entry_points.txt': '[console_scripts]\nbroken = not a valid: spec::\n',
        'broken/data.py': 'DATA = 1\n',
      },
    });
    checkout = join(box.root, 'checkout');
    mkdirSync(checkout);
    writeFileSync(join(checkout, '__init__.py'), '__version__ = "dev"\nVALUE = "my work"\n');
    writeFileSync(join(checkout, 'extra.py'), '# not committed yet\n');
    writeFileSync(join(checkout, 'notes.txt'), 'precious\n');
    pristine = checkoutState();
    expect(Object.values(pristine.nlinks)).to.deep.equal([1, 1, 1]);
    ok(pip('install', 'alpha==1.0'));
    ok(blast(box, ['save', '--env', 'demo', 'one']));
    ok(pip('install', 'alpha==2.0'));
  });
  after(() => box?.cleanup());

  it('`blast load` of a snapshot refuses to write through the link, naming it, changing nothing', () => {
    plantLink();
    try {
      const before = envTree();
      const run = blast(box, ['load', '--env', 'demo', 'one']);
      expect(run.status).to.equal(1);
      const link = join(envPath, sitePackages, 'alpha');
      expect(run.stderr).to.include(`${link} is a symbolic link (to ${checkout})`);
      expect(run.stderr).to.include('Nothing was changed.');
      expect(run.stderr).to.include('`rm ');
      expect(run.stderr).to.include('not `rm -r`');
      expect(run.stderr).not.to.match(/\n\s+at /);
      expect(checkoutState()).to.deep.equal(pristine);
      expect(treeDiff(envTree(), before)).to.deep.equal([]);
    } finally {
      removeLink();
    }
  });

  it('`blast load --revision N` refuses the same way, and the checkout stays byte for byte', () => {
    const revisions = listRevisions(ObjectStore.of(box.env), envPath);
    const one = revisions.find((r) => r.distributions.includes('alpha 1.0'));
    expect(one, JSON.stringify(revisions)).to.not.equal(undefined);
    plantLink();
    try {
      const run = blast(box, ['load', '--env', 'demo', '--revision', String(one!.n)]);
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include(`is a symbolic link (to ${checkout})`);
      expect(checkoutState()).to.deep.equal(pristine);
    } finally {
      removeLink();
    }
  });

  it('the rollback of a failed pip install neither links the checkout into the store nor writes into it', () => {
    plantLink();
    try {
      const before = envTree();
      const run = pip('install', 'broken');
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include('the environment was put back as it was before this pip command');
      expect(checkoutState()).to.deep.equal(pristine);
      expect(treeDiff(envTree(), before)).to.deep.equal([]);
    } finally {
      removeLink();
    }
  });

  it('a crafted snapshot with a link entry and a file under it is refused; nothing outside is written', () => {
    const store = ObjectStore.of(box.env);
    const dir = snapshotsDir(store, envPath);
    const real = readdirSync(dir).find((f) => f === 'one.json')!;
    const manifest = parseManifest(readFileSync(join(dir, real), 'utf8'), real);
    const object = manifest.distributions.flatMap((d) => d.files).find((f) => 'sha256' in f)!;
    const outside = join(box.root, 'outside');
    mkdirSync(outside);
    const crafted: Manifest = {
      ...manifest,
      symlinks: [...manifest.symlinks, { path: `${sitePackages}/evil`, link: outside }],
      distributions: [
        ...manifest.distributions,
        {
          name: 'evil',
          version: '1.0',
          distInfo: `${sitePackages}/evil-1.0.dist-info`,
          files: [{ ...object, path: `${sitePackages}/evil/pwned.py` }],
        },
      ],
    };
    writeFileSync(join(dir, 'crafted.json'), JSON.stringify(crafted));
    const before = envTree();
    const run = blast(box, ['load', '--env', 'demo', 'crafted']);
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include(`${sitePackages}/evil/pwned.py lies under ${sitePackages}/evil`);
    expect(readdirSync(outside)).to.deep.equal([]);
    expect(treeDiff(envTree(), before)).to.deep.equal([]);
  });
});
