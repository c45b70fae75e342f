import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  breakStaleLock,
  readRegistryQuietly,
  registryFile,
  registryLockFile,
  withRegistry,
} from '../src/lib/envs/registry.js';
import { BlastError } from '../src/lib/cli/errors.js';
import { REPO, sandbox, type Sandbox } from './support/cli.js';

function writer(box: Sandbox, prefix: string, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO, 'test/support/registry-writer.ts'),
        box.blastHome,
        prefix,
        String(count),
      ],
      {
        cwd: REPO,
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const python = { executable: '/usr/bin/python3', version: '3.11.2', implementation: 'CPython' };

describe('registry', () => {
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  it('round-trips, replaces by path and removes', async () => {
    const env = box.env;
    await withRegistry(env, (tx) =>
      tx.put({ name: 'a', path: '/e/a', kind: 'named', python, createdAt: 't' }),
    );
    await withRegistry(env, (tx) =>
      tx.put({ name: 'a2', path: '/e/a', kind: 'named', python, createdAt: 't' }),
    );
    expect((await withRegistry(env, (tx) => tx.all())).map((r) => r.name)).to.deep.equal(['a2']);
    expect(await withRegistry(env, (tx) => tx.remove('/e/a'))).to.equal(true);
    expect(await withRegistry(env, (tx) => tx.all())).to.deep.equal([]);
  });

  it('loses nothing when three processes write at once', async () => {
    const codes = await Promise.all([writer(box, 'p', 20), writer(box, 'q', 20), writer(box, 'r', 20)]);
    expect(codes).to.deep.equal([0, 0, 0]);
    const names = (await withRegistry(box.env, (tx) => tx.all())).map((r) => r.name).sort();
    expect(names).to.have.length(60);
    for (const prefix of ['p', 'q', 'r'])
      for (let i = 0; i < 20; i++) expect(names).to.include(`${prefix}-${i}`);
  });

  it('reports a damaged file as a clear error and leaves it untouched', async () => {
    const file = registryFile(box.env);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '{"name":"ok","path":"/x","_id":"1"}\nthis is not json\n');
    let caught: unknown;
    try {
      await withRegistry(box.env, (tx) => tx.all());
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(BlastError);
    expect((caught as BlastError).message).to.match(/damaged/);
    expect((caught as BlastError).hint).to.match(/check --fix/);
  });

  describe('read quietly (what `blast clean` plans with)', () => {
    const record = (name: string) => ({
      name,
      path: `/e/${name}`,
      kind: 'named' as const,
      python,
      createdAt: 't',
    });
    /** The lock directory proper-lockfile (which older Blasts used) leaves: it names no owner. */
    function staleLock(): number {
      mkdirSync(registryLockFile(box.env), { recursive: true });
      const then = new Date(Date.now() - 30_000);
      utimesSync(registryLockFile(box.env), then, then);
      return statSync(registryLockFile(box.env)).mtimeMs;
    }

    it('reads what withRegistry reads, from the lines nedb appends, and writes nothing', async () => {
      const file = registryFile(box.env);
      mkdirSync(join(file, '..'), { recursive: true });
      const line = (doc: object) => JSON.stringify(doc) + '\n';
      // A file as nedb leaves it between compactions: an index, a replaced doc, a deleted one.
      const text =
        line({ $$indexCreated: { fieldName: 'path', unique: false } }) +
        line({ ...record('a'), _id: '1' }) +
        line({ ...record('b'), _id: '2' }) +
        line({ ...record('a2'), path: '/e/a', _id: '1' }) +
        line({ ...record('c'), _id: '3' }) +
        line({ $$deleted: true, _id: '2' });
      writeFileSync(file, text);
      const quiet = await readRegistryQuietly(box.env);
      expect(readFileSync(file, 'utf8')).to.equal(text);
      expect(existsSync(registryLockFile(box.env))).to.equal(false);
      expect(quiet.staleLock).to.equal(undefined);
      expect(quiet.records).to.deep.equal(await withRegistry(box.env, (tx) => tx.all()));
      expect(quiet.records.map((r) => r.name)).to.deep.equal(['a2', 'c']);
    });

    it('reports a stale lock without taking it over, which withRegistry does', async () => {
      await withRegistry(box.env, (tx) => tx.put(record('a')));
      const mtime = staleLock();
      const quiet = await readRegistryQuietly(box.env);
      expect(quiet.records.map((r) => r.name)).to.deep.equal(['a']);
      expect(quiet.staleLock?.ageMs).to.be.greaterThan(10_000);
      expect(statSync(registryLockFile(box.env)).mtimeMs).to.equal(mtime);
      // The rule clean's report relies on: the next locked access takes a lock this old over.
      await withRegistry(box.env, (tx) => tx.all());
      expect(existsSync(registryLockFile(box.env))).to.equal(false);
    });

    it('breakStaleLock removes a stale lock and leaves a live one alone', async () => {
      staleLock();
      expect(await breakStaleLock(box.env)).to.equal(true);
      expect(existsSync(registryLockFile(box.env))).to.equal(false);
      let broke: boolean | undefined;
      await withRegistry(box.env, async () => {
        broke = await breakStaleLock(box.env);
        expect(existsSync(registryLockFile(box.env))).to.equal(true);
      });
      expect(broke).to.equal(false);
    });
  });
});
