import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryFile, withRegistry } from '../src/lib/registry.js';
import { BlastError } from '../src/lib/errors.js';
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
});
