import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlastError } from '../../src/lib/cli/errors.js';
import {
  CRASH_STEPS,
  installedDists,
  journalPath,
  ObjectStore,
  parseManifest,
  readManifest,
  recoverEnv,
  restoreEnv,
  saveManifest,
  snapshotEnv,
  snapshotsDir,
  storeDir,
  type FileEntry,
  type Manifest,
  type SnapshotStats,
} from '../../src/lib/store/index.js';
import { hashCachePath } from '../../src/lib/store/hashcache.js';
import { type StoreWorld, storeWorld, tree, treeDiff } from './world.js';

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'restore-child.ts');

function threw(fn: () => unknown): BlastError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(BlastError);
    return error as BlastError;
  }
  throw new Error('expected a BlastError');
}

describe('store', function () {
  let w: StoreWorld;

  before(async function () {
    const world = await storeWorld();
    if (!world) this.skip();
    w = world;
  });

  after(() => w?.cleanup());

  describe('objects', () => {
    it('stores by hard link, once per content and mode, leaving the file as it was', () => {
      const store = ObjectStore.of(w.env);
      const dir = mkdtempSync(join(w.root, 'objects-'));
      const a = join(dir, 'a');
      const b = join(dir, 'b');
      writeFileSync(a, 'same bytes');
      writeFileSync(b, 'same bytes');
      chmodSync(a, 0o644);
      chmodSync(b, 0o755);
      const before = statSync(a);
      const plain = { sha256: hashOf('same bytes'), mode: 0o644 };
      expect(store.put(a, plain)).to.equal(true);
      expect(store.put(a, plain)).to.equal(false);
      const after = statSync(a);
      expect(statSync(store.pathOf(plain)).ino).to.equal(after.ino);
      expect([after.mode, after.mtimeMs, after.nlink]).to.deep.equal([before.mode, before.mtimeMs, 2]);
      const exec = { sha256: plain.sha256, mode: 0o755 };
      expect(store.put(b, exec)).to.equal(true);
      expect(store.pathOf(exec)).to.not.equal(store.pathOf(plain));
      expect(statSync(store.pathOf(exec)).mode & 0o7777).to.equal(0o755);
      expect(store.pathOf(plain)).to.equal(
        join(storeDir(w.env), 'objects', plain.sha256.slice(0, 2), `${plain.sha256}-644`),
      );
      expect(store.holds(a, plain)).to.equal(true);
      expect(store.holds(b, plain)).to.equal(false);
      expect(() => store.pathOf({ sha256: '../../etc/passwd', mode: 0o644 })).to.throw(BlastError);
    });

    it('copies (verified) when the source is on another filesystem', function () {
      if (!existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(w.root).dev) this.skip();
      const store = ObjectStore.of(w.env);
      const dir = mkdtempSync('/dev/shm/blast-store-');
      try {
        const src = join(dir, 'f');
        writeFileSync(src, 'from another filesystem');
        const ref = { sha256: hashOf('from another filesystem'), mode: 0o640 };
        chmodSync(src, 0o640);
        store.put(src, ref);
        expect(statSync(store.pathOf(ref)).ino).to.not.equal(statSync(src).ino);
        expect(readFileSync(store.pathOf(ref), 'utf8')).to.equal('from another filesystem');
        expect(statSync(store.pathOf(ref)).mode & 0o7777).to.equal(0o640);
        const lie = { sha256: hashOf('something else'), mode: 0o640 };
        threw(() => store.put(src, lie));
        expect(store.has(lie)).to.equal(false);
        const out = join(dir, 'out');
        store.materialize(ref, out);
        expect(readFileSync(out, 'utf8')).to.equal('from another filesystem');
        expect(statSync(out).mode & 0o777).to.equal(0o640);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('snapshot and restore', () => {
    let env: string;

    before(async () => {
      env = await w.makeEnv('roundtrip');
    });

    it('rolls alpha 2.0 back to 1.0: module, RECORD and console script', () => {
      w.pip(env, 'install', 'alpha==1.0');
      const at1 = tree(env);
      const manifest = snapshotEnv(env, { env: w.env });
      expect(treeDiff(tree(env), at1), 'a snapshot changes nothing').to.deep.equal([]);
      const alpha = manifest.distributions.find((d) => d.name === 'alpha');
      expect(alpha?.version).to.equal('1.0');
      expect(alpha?.files.map((f) => f.path)).to.include('bin/alpha');
      w.pip(env, 'install', 'alpha==2.0');
      expect(w.python(env, 'import alpha; print(alpha.__version__)').trim()).to.equal('2.0');
      expect(existsSync(join(env, manifest.sitePackages, 'alpha/sub/deep/mod.py'))).to.equal(true);

      const result = restoreEnv(env, manifest, { env: w.env });
      expect(result.added).to.deep.equal(['alpha 1.0']);
      expect(result.removed).to.deep.equal(['alpha 2.0']);
      expect(w.python(env, 'import alpha; print(alpha.__version__)').trim()).to.equal('1.0');
      expect(w.pip(env, 'show', 'alpha')).to.match(/^Version: 1\.0$/m);
      // pip's own view of RECORD: every file there, with the recorded hash.
      const check = w.python(
        env,
        [
          'import base64, hashlib, importlib.metadata as m',
          'd = m.distribution("alpha")',
          'bad = [str(f) for f in d.files if f.hash and base64.urlsafe_b64encode(hashlib.sha256(f.read_binary()).digest()).rstrip(b"=").decode() != f.hash.value]',
          'print(len(d.files), bad)',
        ].join('\n'),
      );
      expect(check.trim()).to.match(/^\d+ \[\]$/);
      expect(spawnSync(join(env, 'bin', 'alpha'), { encoding: 'utf8' }).stdout).to.equal('alpha 1.0 works\n');
      expect(existsSync(join(env, manifest.sitePackages, 'alpha/sub'))).to.equal(false);
      expect(existsSync(join(env, manifest.sitePackages, 'alpha-2.0.dist-info'))).to.equal(false);
      // Nothing else moved: the tree is the one alpha 1.0 had (bytecode Python wrote since aside).
      const noCache = (rel: string) => rel.endsWith('__pycache__') && !(rel in at1);
      expect(treeDiff(tree(env, noCache), at1)).to.deep.equal([]);
    });

    it('removes the bytecode Python wrote for a module it removes, and the directories left empty', () => {
      const manifest = snapshotEnv(env, { env: w.env });
      w.pip(env, 'install', '--no-compile', 'alpha==2.0');
      const deep = join(env, manifest.sitePackages, 'alpha', 'sub', 'deep');
      expect(existsSync(join(deep, '__pycache__'))).to.equal(false);
      w.python(env, 'import alpha.sub.deep.mod');
      expect(existsSync(join(deep, '__pycache__'))).to.equal(true);
      restoreEnv(env, manifest, { env: w.env });
      expect(existsSync(join(env, manifest.sitePackages, 'alpha', 'sub'))).to.equal(false);
      expect(w.python(env, 'import alpha; print(alpha.__version__)').trim()).to.equal('1.0');
    });

    it('a snapshot given the previous one reads only files that are not its objects, with the same result', () => {
      const store = ObjectStore.of(w.env);
      const first = snapshotEnv(env, { env: w.env, store });
      const stats: SnapshotStats = { files: 0, newObjects: 0, newBytes: 0 };
      // A file that is no longer the stored inode (same bytes, a copy) is hashed again, and found equal.
      const init = join(first.sitePackages, 'alpha', '__init__.py');
      const text = readFileSync(join(env, init));
      rmSync(join(env, init));
      writeFileSync(join(env, init), text, { mode: 0o644 });
      chmodSync(
        join(env, init),
        (first.distributions.flatMap((d) => d.files).find((f) => f.path === init) as { mode: number }).mode,
      );
      const again = snapshotEnv(env, { env: w.env, store, stats, previous: first });
      expect({ ...again, createdAt: '' }).to.deep.equal({ ...first, createdAt: '' });
      expect(stats.files).to.equal(
        first.distributions.reduce((n, d) => n + d.files.filter((f) => !('link' in f)).length, 0),
      );
      expect(stats.newObjects).to.equal(0);
      // Every file that is its object's inode (identical files, like two empty __init__.py, share
      // one object but only one of them is its inode; the copy made above is not either).
      const inodes = first.distributions
        .flatMap((d) => d.files)
        .filter((f): f is FileEntry => !('link' in f))
        .filter((f) => statSync(join(env, f.path)).ino === store.statOf(f)?.ino);
      expect(inodes.length).to.be.greaterThan(stats.files / 2);
      // The others, not the store's inode, were hashed by the first snapshot while they were
      // exactly the inode they are now (the state dir's hash cache): only the copy is read again.
      expect(stats.reused).to.equal(stats.files - 1);
      // The cache trusts nothing that changed: the copy rewritten in place, same size, is read again.
      const changed = Buffer.from(text);
      changed[0] = changed[0] === 0x23 ? 0x0a : 0x23;
      writeFileSync(join(env, init), changed);
      const third = snapshotEnv(env, { env: w.env, store, previous: first });
      const entry = third.distributions.flatMap((d) => d.files).find((f) => f.path === init) as FileEntry;
      expect(entry.sha256).to.equal(createHash('sha256').update(changed).digest('hex'));
      writeFileSync(join(env, init), text);
    });

    it('restoring the same state again changes nothing', () => {
      const manifest = snapshotEnv(env, { env: w.env });
      const result = restoreEnv(env, manifest, { env: w.env });
      expect(result.changed).to.equal(0);
      expect(result.added).to.deep.equal([]);
      expect(result.removed).to.deep.equal([]);
    });

    it('save, uninstall everything but pip, restore: an identical tree', () => {
      w.pip(env, 'install', 'alpha==2.0', 'beta');
      const manifest = snapshotEnv(env, { env: w.env });
      const file = saveManifest(ObjectStore.of(w.env), env, 'full', manifest);
      expect(file).to.equal(join(snapshotsDir(ObjectStore.of(w.env), env), 'full.json'));
      const before = tree(env);
      w.pip(env, 'uninstall', '-y', 'alpha', 'beta');
      expect(installedDists(env).map((d) => d.name)).to.deep.equal(['pip']);
      const result = restoreEnv(env, readManifest(file), { env: w.env });
      expect(result.added).to.deep.equal(['alpha 2.0', 'beta 1.0']);
      expect(treeDiff(tree(env), before)).to.deep.equal([]);
      expect(spawnSync(join(env, 'bin', 'beta'), { encoding: 'utf8' }).stdout).to.equal('beta 1.0 works\n');
    });

    it("the hash cache keeps rows only for files that are not the store's inodes", async () => {
      const dir = await w.makeEnv('hash-rows');
      const store = ObjectStore.of(w.env);
      const rows = () => {
        const file = hashCachePath(dir, w.env);
        const files = existsSync(file)
          ? (JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, unknown> }).files
          : {};
        return Object.keys(files).filter((rel) => rel.includes('/alpha'));
      };
      /** Rows of files that are the store's own inode: found by their seal, never by the cache. */
      const useless = (manifest: Manifest) => {
        const entries = new Map(
          manifest.distributions.flatMap((d) => d.files).map((f) => [f.path, f as FileEntry]),
        );
        return rows().filter((rel) => {
          const entry = entries.get(rel);
          return entry && statSync(join(dir, rel)).ino === statSync(store.pathOf(entry)).ino;
        });
      };
      w.pip(dir, 'install', 'alpha==1.0');
      const manifest = snapshotEnv(dir, { env: w.env });
      // Taken into the store as its objects (hard links): found by their seal from now on.
      expect(useless(manifest)).to.deep.equal([]);
      // Installed again by pip: new inodes with content the store has, so hashed and cached.
      w.pip(dir, 'install', '--force-reinstall', 'alpha==1.0');
      snapshotEnv(dir, { env: w.env });
      expect(rows()).to.include(`${manifest.sitePackages}/alpha-1.0.dist-info/RECORD`);
      // A rollback links the store's inodes there: their rows would never be used again.
      w.pip(dir, 'uninstall', '-y', 'alpha');
      restoreEnv(dir, manifest, { env: w.env });
      expect(w.pip(dir, 'show', 'alpha')).to.match(/^Version: 1\.0$/m);
      expect(useless(manifest)).to.deep.equal([]);
    });

    it('shares objects between environments (hard links); pip in one leaves the other intact', async () => {
      const other = await w.makeEnv('other');
      w.pip(other, 'install', 'alpha==2.0', 'beta');
      const manifest = snapshotEnv(other, { env: w.env });
      w.pip(other, 'uninstall', '-y', 'alpha', 'beta');
      restoreEnv(other, manifest, { env: w.env });
      const init = join(manifest.sitePackages, 'alpha', '__init__.py');
      // The store had alpha 2.0 from the first environment: both now have that one inode.
      expect(statSync(join(other, init)).ino).to.equal(statSync(join(env, init)).ino);
      expect(statSync(join(other, init)).nlink).to.be.at.least(3);
      expect(w.python(other, 'import alpha; print(alpha.__version__)').trim()).to.equal('2.0');
      // Console scripts name their environment's python, so those are each environment's own.
      expect(readFileSync(join(other, 'bin', 'alpha'), 'utf8')).to.include(join(other, 'bin', 'python'));
      expect(spawnSync(join(other, 'bin', 'alpha'), { encoding: 'utf8' }).stdout).to.equal(
        'alpha 2.0 works\n',
      );
      // pip replaces files by unlinking them: an upgrade in one environment never reaches the other.
      const stored = readFileSync(join(env, init), 'utf8');
      w.pip(other, 'install', 'alpha==1.0');
      expect(w.python(other, 'import alpha; print(alpha.__version__)').trim()).to.equal('1.0');
      expect(readFileSync(join(env, init), 'utf8')).to.equal(stored);
      expect(w.python(env, 'import alpha; print(alpha.__version__)').trim()).to.equal('2.0');
    });

    it('restores a snapshot only into its own environment', async () => {
      const stranger = await w.makeEnv('stranger');
      const manifest = snapshotEnv(env, { env: w.env });
      expect(threw(() => restoreEnv(stranger, manifest, { env: w.env })).message).to.include('is of');
    });

    it('refuses a corrupt manifest with a clear error, touching nothing', () => {
      const store = ObjectStore.of(w.env);
      const file = saveManifest(store, env, 'broken', snapshotEnv(env, { env: w.env }));
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, text.slice(0, text.length / 2));
      expect(threw(() => readManifest(file)).message).to.match(/snapshot .*broken\.json is corrupt/);
      const escaping: Manifest = JSON.parse(text);
      escaping.distributions[0]!.files[0]!.path = '../../outside';
      expect(threw(() => parseManifest(JSON.stringify(escaping), 'x')).message).to.include(
        'not a relative path inside the environment',
      );
      const badHash: Manifest = JSON.parse(text);
      (badHash.distributions[0]!.files[0] as { sha256: string }).sha256 = 'nope';
      expect(threw(() => parseManifest(JSON.stringify(badHash), 'x')).message).to.include('bad sha256');
      expect(threw(() => parseManifest('[]', 'x')).message).to.include('corrupt');
    });

    it('refuses a snapshot whose objects are gone, before changing anything', async () => {
      const fresh = await w.makeEnv('missing-objects');
      w.pip(fresh, 'install', 'alpha==1.0');
      const manifest: Manifest = JSON.parse(JSON.stringify(snapshotEnv(fresh, { env: w.env })));
      w.pip(fresh, 'install', 'alpha==2.0');
      const file = manifest.distributions.find((d) => d.name === 'alpha')!.files[0] as { sha256: string };
      file.sha256 = 'f'.repeat(64);
      const before = tree(fresh);
      expect(threw(() => restoreEnv(fresh, manifest, { env: w.env })).message).to.include('store lacks');
      expect(treeDiff(tree(fresh), before)).to.deep.equal([]);
      expect(existsSync(journalPath(fresh, w.env))).to.equal(false);
    });
  });

  describe('kill -9 during a restore', () => {
    it('undoes the change when the store can no longer finish it', async () => {
      const env = await w.makeEnv('crash-undo');
      w.pip(env, 'install', 'alpha==1.0', 'beta');
      const manifest = snapshotEnv(env, { env: w.env });
      const file = saveManifest(ObjectStore.of(w.env), env, 'one', manifest);
      w.pip(env, 'uninstall', '-y', 'beta');
      w.pip(env, 'install', 'alpha==2.0');
      const newState = tree(env);
      const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, env, file], {
        env: { ...w.env, BLAST_TEST_CRASH_AT: 'restore-linking' },
        encoding: 'utf8',
      });
      expect(child.signal, child.stderr).to.equal('SIGKILL');
      // An object the restore was bringing in disappears (removed by hand, say).
      const journal = JSON.parse(readFileSync(journalPath(env, w.env), 'utf8')) as {
        steps: { path: string; after: { kind: string; sha256: string; mode: number } }[];
      };
      const last = journal.steps.filter((s) => s.after.kind === 'file').at(-1)!;
      rmSync(ObjectStore.of(w.env).pathOf(last.after));
      expect(recoverEnv(env, { env: w.env }).outcome).to.equal('undone');
      expect(treeDiff(tree(env), newState)).to.deep.equal([]);
      expect(existsSync(journalPath(env, w.env))).to.equal(false);
    });

    for (const step of CRASH_STEPS) {
      it(`at ${step}: the next command leaves exactly the old or the new state`, async () => {
        const env = await w.makeEnv(`crash-${step}`);
        w.pip(env, 'install', 'alpha==1.0', 'beta');
        const manifest = snapshotEnv(env, { env: w.env });
        const file = saveManifest(ObjectStore.of(w.env), env, 'one', manifest);
        const oldTree = tree(env);
        w.pip(env, 'uninstall', '-y', 'beta');
        w.pip(env, 'install', 'alpha==2.0');
        const newState = tree(env);
        const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, env, file], {
          env: { ...w.env, BLAST_TEST_CRASH_AT: step },
          encoding: 'utf8',
        });
        expect(child.signal, child.stderr).to.equal('SIGKILL');
        const recovery = recoverEnv(env, { env: w.env });
        const after = tree(env);
        if (step === 'restore-planned' || step === 'restore-journal-temp') {
          expect(recovery.outcome).to.equal('none');
          expect(treeDiff(after, newState)).to.deep.equal([]);
        } else {
          expect(recovery.outcome).to.equal('finished');
          expect(treeDiff(after, oldTree)).to.deep.equal([]);
        }
        expect(existsSync(journalPath(env, w.env))).to.equal(false);
        // And a restore after it works as ever.
        restoreEnv(env, manifest, { env: w.env });
        expect(treeDiff(tree(env), oldTree)).to.deep.equal([]);
      });
    }
  });
});

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
