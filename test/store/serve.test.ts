/**
 * Store-served installs (issue 14 §2): a distribution another environment had is linked into a
 * fresh one from the store instead of pip unpacking it, with scripts, INSTALLER, REQUESTED and
 * RECORD regenerated for this environment. Real CLI and real pip, wheels this test builds, no
 * network: pip finds archives only through PIP_NO_INDEX=1 PIP_FIND_LINKS=<dir>.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readEnvConfig, infoOf } from '../../src/lib/envs/config.js';
import { ObjectStore, serveFromStore, type ServeResult, type WantedDist } from '../../src/lib/store/index.js';
import { runTransaction } from '../../src/lib/transaction/index.js';
import { blast, sandbox, throughFunction, type Sandbox } from '../support/cli.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';
import { tree, treeDiff } from './world.js';

describe('store-served installs: a distribution any environment had, linked in without pip', function () {
  this.timeout(300_000);
  let box: Sandbox;
  let wheels: string;
  let empty: string;
  let source: string;
  let control: string;
  let reqFile: string;
  const pipVars = (links: string) => ({
    ...(isolatedPipEnv(box.env) as Record<string, string>),
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: pathToFileURL(links).href,
  });
  const start = (name: string) => {
    const run = throughFunction(box, ['start', name]);
    expect(run.status, run.stderr).to.equal(0);
    return join(box.blastHome, 'envs', name);
  };
  const pip = (env: string, links: string, ...args: string[]) =>
    spawnSync(join(env, 'bin', 'python'), ['-m', 'pip', ...args], { env: pipVars(links), encoding: 'utf8' });
  const pipOk = (env: string, ...args: string[]) => {
    const r = pip(env, wheels, ...args);
    expect(r.status, r.stderr).to.equal(0);
    return r.stdout;
  };
  const sitePackages = (env: string) => {
    const lib = readdirSync(join(env, 'lib')).find((n) => n.startsWith('python'))!;
    return join(env, 'lib', lib, 'site-packages');
  };
  const REGENERATED = /(^|\/)(RECORD|INSTALLER|REQUESTED)$/;
  /** site-packages of the distributions under test, bytecode aside. */
  const ours = (env: string, skip: (rel: string) => boolean = () => false) =>
    tree(sitePackages(env), (rel) => rel.includes('__pycache__') || !/^(alpha|beta)/.test(rel) || skip(rel));
  /** Inside a pip transaction, as the shim will call it: the store's part, then (nothing for) pip. */
  const serveIn = async (env: string, wanted: WantedDist[]): Promise<ServeResult> => {
    let result: ServeResult | undefined;
    const info = infoOf(env, (await readEnvConfig(env))!);
    const tx = await runTransaction({
      envPath: env,
      event: {
        env: info,
        args: ['install', 'alpha', 'beta'],
        command: 'install',
        interactive: false,
        source: 'pip',
      },
      hooks: { preInstall: async () => {}, postInstall: async () => {} },
      env: box.env,
      report: () => {},
      pip: async () => {
        result = await serveFromStore(env, wanted, { env: box.env });
        return 0;
      },
    });
    expect(tx.exitCode).to.equal(0);
    return result!;
  };
  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const lockLines = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');

  before(() => {
    box = sandbox();
    wheels = join(box.root, 'wheels');
    empty = join(box.root, 'no wheels');
    for (const d of [wheels, empty]) mkdirSync(d);
    source = start('source');
    const python = join(source, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', {
      script: 'alpha',
      files: {
        'alpha/sub/mod.py': 'X = 1\n',
        'alpha-1.0.data/scripts/alpha-where': '#!python\nimport sys\nprint(sys.prefix)\n',
      },
    });
    buildWheel(python, wheels, 'beta', '1.0', { files: { 'beta/data.txt': 'beta data\n' } });
    pipOk(source, 'install', 'alpha==1.0', 'beta==1.0');
    // The source's lock: pip reports the archives, and the store remembers which wheel each came from.
    reqFile = join(box.root, 'requirements.txt');
    const saved = blast(box, ['save', '--path', source, 'base', '--lock', reqFile], { env: pipVars(wheels) });
    expect(saved.status, saved.stderr).to.equal(0);
    control = start('control');
    pipOk(control, 'install', 'alpha==1.0', 'beta==1.0');
  });

  after(() => box?.cleanup());

  describe('served through the API inside a pip transaction', () => {
    let served: string;
    let beforeTree: Record<string, string> = {};
    let result: ServeResult;
    before(async () => {
      served = start('served');
      beforeTree = tree(served, (rel) => rel.includes('__pycache__'));
      result = await serveIn(served, [
        { name: 'alpha', version: '1.0' },
        { name: 'beta', version: '1.0', requested: false },
      ]);
    });

    it('serves both from the source environment, nothing missing', () => {
      expect(result.missing).to.deep.equal([]);
      expect(result.served.map((s) => `${s.name} ${s.version}`)).to.deep.equal(['alpha 1.0', 'beta 1.0']);
      // From an environment that has them (source, or control, whose daemon recorded pip's install).
      for (const s of result.served) expect([source, control]).to.include(s.from);
    });

    it("is byte-identical to pip's install in site-packages except the regenerated files", () => {
      const diff = treeDiff(
        ours(served, (rel) => REGENERATED.test(rel)),
        ours(control, (rel) => REGENERATED.test(rel)),
      );
      expect(diff).to.deep.equal([]);
      const distInfo = join(sitePackages(served), 'alpha-1.0.dist-info');
      expect(readFileSync(join(distInfo, 'INSTALLER'), 'utf8')).to.equal('blast\n');
      expect(existsSync(join(distInfo, 'REQUESTED'))).to.equal(true);
      // A dependency pip would not mark as requested.
      expect(existsSync(join(sitePackages(served), 'beta-1.0.dist-info', 'REQUESTED'))).to.equal(false);
    });

    it("RECORD lists every file as it is here (regenerated scripts' hashes and sizes included)", () => {
      const sp = sitePackages(served);
      for (const dist of ['alpha-1.0.dist-info', 'beta-1.0.dist-info']) {
        const lines = readFileSync(join(sp, dist, 'RECORD'), 'utf8')
          .trim()
          .split('\n');
        for (const line of lines) {
          const [path, hash, size] = line.split(',');
          expect(path).not.to.match(/\.pyc$/);
          if (!hash) continue; // RECORD itself
          const file = join(sp, path!);
          const data = readFileSync(file);
          expect(`sha256=${createHash('sha256').update(data).digest('base64url')}`, path).to.equal(hash);
          expect(String(data.length), path).to.equal(size);
        }
      }
      const check = pip(served, empty, 'check');
      expect(check.status, check.stdout + check.stderr).to.equal(0);
      const show = pip(served, empty, 'show', '-f', 'alpha');
      expect(show.stdout).to.include(`Location: ${sp}`).and.to.include('../../../bin/alpha');
    });

    it("its console script and data script run with this environment's Python", () => {
      const out = execFileSync(join(served, 'bin', 'alpha'), { encoding: 'utf8' }).trim();
      expect(out).to.equal('alpha 1.0 works');
      // pip leaves a data script with the wheel's mode (not executable here): run what its shebang names.
      const where = join(served, 'bin', 'alpha-where');
      const shebang = readFileSync(where, 'utf8').split('\n')[0]!.slice(2);
      expect(shebang).to.equal(join(served, 'bin', 'python'));
      const prefix = execFileSync(shebang, [where], { encoding: 'utf8' }).trim();
      expect(prefix).to.equal(served);
      expect(readFileSync(join(served, 'bin', 'alpha'), 'utf8')).to.include(join(served, 'bin', 'python'));
      expect(readFileSync(join(served, 'bin', 'alpha'), 'utf8')).not.to.include(source);
    });

    it('is a revision in blast history, and rolling back to the one before restores the state before it', () => {
      const hist = blast(box, ['history', '--path', served, '--json']);
      expect(hist.status, hist.stderr).to.equal(0);
      type Entry = { kind: string; n?: number; source?: string; change?: { added: string[] } };
      const revs = (JSON.parse(hist.stdout) as { entries: Entry[] }).entries.filter(
        (e) => e.kind === 'revision',
      );
      const text = JSON.stringify(revs);
      const servedRev = revs.find((r) => r.source === 'pip' && r.change?.added.includes('alpha 1.0'))!;
      expect(servedRev, text).to.not.equal(undefined);
      const back = blast(box, ['load', '--path', served, '--revision', String(servedRev.n! - 1)]);
      expect(back.status, back.stderr).to.equal(0);
      expect(
        treeDiff(
          tree(served, (rel) => rel.includes('__pycache__')),
          beforeTree,
        ),
      ).to.deep.equal([]);
      // …and forward again, for the uninstall below.
      const fwd = blast(box, ['load', '--path', served, '--revision', String(servedRev.n)]);
      expect(fwd.status, fwd.stderr).to.equal(0);
    });

    it('pip uninstall removes it cleanly', () => {
      execFileSync(join(served, 'bin', 'python'), ['-c', 'import alpha.sub.mod, beta']); // bytecode, as use makes it
      const r = pip(served, empty, 'uninstall', '-y', 'alpha', 'beta');
      expect(r.status, r.stderr).to.equal(0);
      const left = Object.keys(tree(served)).filter((p) => /alpha|beta/.test(p));
      expect(left).to.deep.equal([]);
    });
  });

  describe('blast load --lock from another environment, offline', () => {
    let offline: string;
    before(() => {
      offline = start('offline');
    });

    it('loads a lock whose distributions another environment had with no index at all', () => {
      const run = blast(box, ['load', '--path', offline, '--lock', reqFile, '--json'], {
        env: pipVars(empty),
      });
      expect(run.status, run.stderr).to.equal(0);
      const result = JSON.parse(run.stdout) as { relinked: string[]; installed: string[]; pipRan: boolean };
      expect(result.relinked).to.deep.equal(['alpha 1.0', 'beta 1.0']);
      expect(result.pipRan).to.equal(false);
      expect(execFileSync(join(offline, 'bin', 'alpha'), { encoding: 'utf8' }).trim()).to.equal(
        'alpha 1.0 works',
      );
      const check = pip(offline, empty, 'check');
      expect(check.status, check.stdout).to.equal(0);
    });

    it('save --lock after a store-served install pins the same hashes as after a pip install, offline', () => {
      const servedLock = join(box.root, 'served.txt');
      const pipLock = join(box.root, 'control.txt');
      const a = blast(box, ['save', '--path', offline, '--lock', servedLock], { env: pipVars(empty) });
      expect(a.status, a.stderr).to.equal(0);
      const b = blast(box, ['save', '--path', control, '--lock', pipLock], { env: pipVars(wheels) });
      expect(b.status, b.stderr).to.equal(0);
      expect(lockLines(servedLock)).to.equal(lockLines(pipLock));
      expect(readFileSync(servedLock, 'utf8')).to.include(sha256(join(wheels, 'alpha-1.0-py3-none-any.whl')));
    });
  });
  describe('a store object gone missing', () => {
    it('a store object that went missing falls back to pip (blast load --lock)', () => {
      const env = start('fallback');
      // beta's data file: its object is gone from the store.
      const store = new ObjectStore(join(box.blastHome, 'store'));
      const obj = store.pathOf({
        sha256: sha256(join(sitePackages(source), 'beta', 'data.txt')),
        mode: 0o644,
      });
      const kept = readFileSync(obj);
      rmSync(obj);
      try {
        const run = blast(box, ['load', '--path', env, '--lock', reqFile, '--json'], {
          env: pipVars(wheels),
        });
        expect(run.status, run.stderr).to.equal(0);
        const result = JSON.parse(run.stdout) as { relinked: string[]; installed: string[]; pipRan: boolean };
        expect(result.relinked).to.deep.equal(['alpha 1.0']);
        expect(result.installed).to.deep.equal(['beta 1.0']);
        expect(result.pipRan).to.equal(true);
        expect(readFileSync(join(sitePackages(env), 'beta', 'data.txt'), 'utf8')).to.equal('beta data\n');
      } finally {
        if (!existsSync(obj)) writeFileSync(obj, kept, { mode: 0o644 });
      }
    });
  });
});
