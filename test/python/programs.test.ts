/**
 * Blast's Python programs (src/python/*.py) run as Python, with the interpreters this machine
 * really has: the probe with every one found (2.7 included: it must answer so that 2.7 can be
 * listed and rejected with a reason), the others with the oldest and the newest supported version
 * (where syntax and standard library differ; every version between runs them in the rest of the
 * suite, which creates environments with each). Each answer is checked for its shape, the one the
 * TypeScript that reads it expects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { discoverInterpreters } from '../../src/lib/python/index.js';
import { probe, pythonEnv } from '../../src/lib/python/probe.js';
import { pythonProgram } from '../../src/lib/python/programs.js';
import type { Interpreter } from '../../src/lib/python/types.js';
import { buildWheel } from '../support/wheels.js';
import { machineInterpreters, supportedByVersion } from './world.js';

const run = (python: string, args: string[], input?: string): string =>
  execFileSync(python, args, {
    env: pythonEnv(process.env),
    cwd: '/',
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });

describe('Python programs (src/python/*.py)', function () {
  this.timeout(180_000);
  let all: Interpreter[];
  /** The oldest and the newest supported version. */
  let ends: Interpreter[];
  let dir: string;

  before(async () => {
    all = [...new Map((await machineInterpreters()).map((i) => [i.version, i])).values()];
    const supported = await supportedByVersion();
    expect(supported, 'a supported Python on this machine').to.have.length.greaterThan(0);
    ends = [...new Set([supported[0], supported[supported.length - 1]])] as Interpreter[];
    dir = mkdtempSync(join(tmpdir(), 'blast-programs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('probe.py answers on every interpreter found, with the facts discovery reads', async () => {
    // Discovery drops a candidate the probe fails on: none of those may be a Python that runs.
    const home = mkdtempSync(join(dir, 'home-'));
    const { broken } = await discoverInterpreters({ env: { ...process.env, BLAST_HOME: home }, cwd: '/' });
    for (const b of broken) {
      let runs = false;
      try {
        run(b.path, ['-c', 'import sys']);
        runs = true;
      } catch {
        // not a Python that runs: rightly dropped
      }
      expect(runs, `${b.path} runs Python, yet the probe failed on it: ${b.reason}`).to.equal(false);
    }
    for (const interp of all) {
      const facts = await probe(interp.realpath, process.env);
      const what = `${interp.version} (${interp.realpath})`;
      expect(facts.versionInfo, what).to.have.length(5);
      expect(facts.versionInfo.slice(0, 3), what).to.deep.equal(interp.versionInfo);
      expect(facts.implementation, what).to.be.a('string').with.length.greaterThan(0);
      expect(facts.prefix, what).to.be.a('string');
      expect(facts.isVenv, what).to.be.a('boolean');
      expect(facts.is64bit, what).to.be.a('boolean');
      expect(facts.venvTemplates, what).to.be.an('array');
      for (const key of ['purelib', 'scripts', 'include', 'pipWheel', 'magic', 'cacheTag'] as const)
        expect(facts[key] === null || typeof facts[key] === 'string', `${what} ${key}`).to.equal(true);
    }
  });

  it('seed_build.py and seed_spares.py build a seed and its spares on the oldest and newest supported version', () => {
    for (const interp of ends) {
      const where = join(dir, `seed-${interp.version}`);
      // A pip-shaped wheel (a dist-info and a `pip` console script), tiny so that this stays fast.
      const wheel = buildWheel(interp.realpath, dir, 'pip', '99.0', { script: 'pip' });
      run(interp.realpath, ['-E', '-s', '-c', pythonProgram('seed_build'), wheel.path, where, '7']);
      const manifest = JSON.parse(readFileSync(join(where, 'manifest.json'), 'utf8'));
      expect(manifest, interp.version).to.include({
        format: 7,
        wheel: 'pip-99.0-py3-none-any',
        version: '99.0',
      });
      expect(manifest.distInfo).to.equal('pip-99.0.dist-info');
      expect(manifest.entryPoint).to.deep.equal({ module: 'pip', attr: 'main' });
      expect(manifest.files).to.include('pip/__init__.py');
      expect(
        manifest.files.some((f: string) => f.startsWith('pip/__pycache__/') && f.endsWith('.pyc')),
      ).to.equal(true);
      expect(manifest.files).to.not.include('pip-99.0.dist-info/RECORD');
      expect(manifest.record.some((l: string) => l.startsWith('pip/__init__.py,sha256='))).to.equal(true);

      run(interp.realpath, ['-E', '-s', '-c', pythonProgram('seed_spares'), where, '1']);
      const spares = readdirSync(join(where, 'spares')).filter((n) => !n.startsWith('.'));
      expect(spares, interp.version).to.have.length(1);
      const spare = join(where, 'spares', spares[0] as string);
      for (const file of manifest.files as string[]) {
        // hard links of the tree: the same inode
        expect(statSync(join(spare, file)).ino, file).to.equal(statSync(join(where, 'tree', file)).ino);
      }
      expect(existsSync(join(where, 'spares', '.lock'))).to.equal(false);
    }
  });

  it('lock_interpreter.py evaluates markers and lists tags through pip, on the oldest and newest supported version', () => {
    let ran = 0;
    for (const interp of ends) {
      try {
        run(interp.realpath, ['-I', '-c', 'import pip._vendor.packaging.tags']);
      } catch {
        continue; // no pip in this interpreter (environments always have one)
      }
      const ask = { markers: ['python_version >= "3"', 'os_name == "nt"', 'not a marker'], tags: true };
      const out = JSON.parse(
        run(interp.realpath, ['-I', '-c', pythonProgram('lock_interpreter')], JSON.stringify(ask)),
      );
      expect(out.python, interp.version).to.equal(interp.version.replace(/[a-z].*$/, ''));
      expect(out.markers['python_version >= "3"']).to.equal(true);
      expect(out.markers['os_name == "nt"']).to.equal(false);
      expect(out.markers['not a marker']).to.be.a('string');
      expect(out.tags).to.be.an('array').with.length.greaterThan(0);
      expect(out.tags[0]).to.match(/^[a-z]+\d*-[\w]+-[\w.]+$/);
      ran++;
    }
    expect(ran, 'a supported Python with pip').to.be.greaterThan(0);
  });
});
