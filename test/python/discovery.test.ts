import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlastError, ExitCode } from '../../src/lib/cli/errors.js';
import { compareVersionInfo, findPython, listInterpreters } from '../../src/lib/python/index.js';
import type { Interpreter } from '../../src/lib/python/index.js';
import { machineInterpreters, makeWorld, supportedByVersion, type World } from './world.js';

async function rejection(promise: Promise<unknown>): Promise<BlastError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(BlastError);
    return error as BlastError;
  }
  throw new Error('expected a BlastError');
}

const minorOf = (i: Interpreter) => `${i.versionInfo[0]}.${i.versionInfo[1]}`;

describe('python discovery on this machine', () => {
  it('finds interpreters, deduplicated, highest first, each with its facts', async () => {
    const all = await machineInterpreters();
    expect(all.filter((i) => i.supported).length, 'at least one Python 3').to.be.greaterThan(0);
    expect(new Set(all.map((i) => i.realpath)).size).to.equal(all.length);
    for (const i of all) {
      expect(i.version).to.match(/^\d+\.\d+\.\d+((a|b|rc)\d+)?$/);
      expect(existsSync(i.executable), i.executable).to.equal(true);
      expect(i.implementation).to.match(/^\w+$/);
      if (i.versionInfo[0] < 3) {
        expect(i.supported).to.equal(false);
        expect(i.reason).to.match(/PEP 405/);
      }
      if (i.supported) expect(i.facts.purelib).to.equal(`lib/python${minorOf(i)}/site-packages`);
    }
    for (let k = 1; k < all.length; k++) {
      const [a, b] = [all[k - 1] as Interpreter, all[k] as Interpreter];
      expect(compareVersionInfo(a.facts.versionInfo, b.facts.versionInfo)).to.be.at.least(0);
    }
  });

  it('resolves the default python3 to what running it (shims and all) really runs', async function () {
    const run = spawnSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], {
      encoding: 'utf8',
    });
    if (run.status !== 0) this.skip();
    const all = await machineInterpreters();
    const def = all.find((i) => i.isDefault);
    expect(def, 'a default interpreter').to.not.equal(undefined);
    expect(def?.realpath).to.equal(run.stdout.trim());
  });
});

describe('python discovery in a controlled world', () => {
  let oldest: Interpreter;
  let newest: Interpreter;
  let world: World;
  let project: string;

  before(async function () {
    const versions = await supportedByVersion();
    if (versions.length < 2) this.skip();
    oldest = versions[0] as Interpreter;
    newest = versions.at(-1) as Interpreter;
  });

  beforeEach(() => {
    world = makeWorld();
    world.addVersion(oldest.version, oldest);
    world.addVersion(newest.version, newest);
    world.addShim('python3');
    world.addShim('python');
    world.addShim(`python${minorOf(oldest)}`);
    world.addShim(`python${minorOf(newest)}`);
    writeFileSync(join(world.pyenvRoot, 'version'), `${newest.version}\n`);
    project = join(world.root, 'project');
    mkdirSync(join(project, 'sub', 'dir'), { recursive: true });
  });

  afterEach(() => world.cleanup());

  const find = (spec?: string, cwd = project, extra: Record<string, string> = {}) =>
    findPython(spec, { env: { ...world.env, ...extra }, cwd });

  describe('pyenv shims', () => {
    it('follows the global version file', async () => {
      const py = await find();
      expect(py.version).to.equal(newest.version);
      expect(py.executable).to.equal(join(world.pyenvRoot, 'versions', newest.version, 'bin', 'python3'));
      expect(py.isDefault).to.equal(true);
    });

    it('follows .python-version in the directory and its parents', async () => {
      writeFileSync(join(project, '.python-version'), `${oldest.version}\n`);
      expect((await find(undefined, project)).version).to.equal(oldest.version);
      expect((await find(undefined, join(project, 'sub', 'dir'))).version).to.equal(oldest.version);
    });

    it('lets PYENV_VERSION win over .python-version', async () => {
      writeFileSync(join(project, '.python-version'), `${oldest.version}\n`);
      expect((await find(undefined, project, { PYENV_VERSION: newest.version })).version).to.equal(
        newest.version,
      );
    });

    it('reads several versions, skipping comments and versions that are not installed', async () => {
      writeFileSync(
        join(project, '.python-version'),
        `# pinned\n\nnot-installed-1.0\n${oldest.version}\n${newest.version}\n`,
      );
      expect((await find()).version).to.equal(oldest.version);
    });

    it('resolves a version prefix to the installed version', async () => {
      writeFileSync(join(project, '.python-version'), `${minorOf(oldest)}\n`);
      expect((await find()).version).to.equal(oldest.version);
    });

    it('resolves `system` to PATH outside the shims', async () => {
      world.addSystem('python3', oldest);
      writeFileSync(join(world.pyenvRoot, 'version'), 'system\n');
      const py = await find();
      expect(py.version).to.equal(oldest.version);
      expect(py.executable).to.equal(join(world.systemBin, 'python3'));
    });

    it("resolves another pyenv root's shims on PATH by what the shim says", async () => {
      const other = join(world.root, 'other-pyenv');
      mkdirSync(join(other, 'shims'), { recursive: true });
      mkdirSync(join(other, 'versions', oldest.version, 'bin'), { recursive: true });
      symlinkSync(oldest.realpath, join(other, 'versions', oldest.version, 'bin', 'python3'));
      writeFileSync(join(other, 'version'), `${oldest.version}\n`);
      const shim = join(other, 'shims', 'python3');
      writeFileSync(
        shim,
        `#!/usr/bin/env bash\nset -e\nprogram="\${0##*/}"\nexport PYENV_ROOT="${other}"\nexec "${other}/libexec/pyenv" exec "$program" "$@"\n`,
      );
      chmodSync(shim, 0o755);
      const py = await find(undefined, project, { PATH: `${join(other, 'shims')}:${world.env.PATH}` });
      expect(py.version).to.equal(oldest.version);
      expect(py.executable).to.equal(join(other, 'versions', oldest.version, 'bin', 'python3'));
    });

    it('skips a shim whose program the selected version lacks', async () => {
      // python3.<newest minor> is a shim, but the selected version is the oldest: pyenv would fail,
      // so the name falls back to meaning that version, found in pyenv's versions folder.
      writeFileSync(join(project, '.python-version'), `${oldest.version}\n`);
      const py = await find(`python${minorOf(newest)}`);
      expect(py.version).to.equal(newest.version);
    });
  });

  describe('specs', () => {
    it('matches version prefixes and exact versions', async () => {
      expect((await find(minorOf(oldest))).version).to.equal(oldest.version);
      expect((await find(String(oldest.versionInfo[0]))).version).to.equal(
        oldest.versionInfo[0] === newest.versionInfo[0] ? newest.version : oldest.version,
      );
      expect((await find(oldest.version)).version).to.equal(oldest.version);
    });

    it('matches PEP 440 specifiers, preferring the default, else the highest', async () => {
      expect((await find(`>=${oldest.version}`)).version).to.equal(newest.version);
      expect((await find(`<${minorOf(newest)}`)).version).to.equal(oldest.version);
      expect((await find(`==${minorOf(oldest)}.*`)).version).to.equal(oldest.version);
      writeFileSync(join(world.pyenvRoot, 'version'), `${oldest.version}\n`);
      expect((await find(`>=${oldest.version}`)).version, 'the default when it matches').to.equal(
        oldest.version,
      );
      expect((await find(`>${oldest.version}`)).version, 'else the highest').to.equal(newest.version);
    });

    it('prefers an executable of that exact name on PATH over the version it spells', async () => {
      // A name no version has: only the executable can match.
      world.addSystem('python3.999', oldest);
      expect((await find('python3.999')).version).to.equal(oldest.version);
    });

    it('takes paths: a file, a prefix directory, ~', async () => {
      const file = join(world.pyenvRoot, 'versions', oldest.version, 'bin', 'python3');
      expect((await find(file)).realpath).to.equal(oldest.realpath);
      expect((await find(join(world.pyenvRoot, 'versions', oldest.version))).realpath).to.equal(
        oldest.realpath,
      );
      mkdirSync(join(world.env.HOME as string, 'py'));
      symlinkSync(oldest.realpath, join(world.env.HOME as string, 'py', 'python'));
      const home = await find('~/py/python');
      expect(home.realpath).to.equal(oldest.realpath);
      expect(home.executable).to.equal(join(world.env.HOME as string, 'py', 'python'));
    });

    it("uses a venv's base interpreter when given the venv's python", async () => {
      const venv = join(world.root, 'a venv');
      execFileSync(oldest.executable, ['-m', 'venv', '--without-pip', venv]);
      const py = await find(join(venv, 'bin', 'python'));
      expect(py.realpath).to.equal(oldest.realpath);
      expect(py.executable.startsWith(venv)).to.equal(false);
      expect(py.version).to.equal(oldest.version);
    });

    it('says what it found when nothing matches', async () => {
      const error = await rejection(find('>=99'));
      expect(error.exitCode).to.equal(ExitCode.notFound);
      for (const i of [oldest, newest]) {
        expect(error.message).to.include(i.version);
        expect(error.message).to.include(join(world.pyenvRoot, 'versions', i.version, 'bin', 'python3'));
      }
    });

    it('rejects a path that does not exist or is not a Python, listing what was found', async () => {
      const missing = await rejection(find(join(world.root, 'nope', 'python3')));
      expect(missing.exitCode).to.equal(ExitCode.notFound);
      expect(missing.message).to.include('does not exist').and.include(newest.version);
      const script = join(world.root, 'not-python');
      writeFileSync(script, '#!/bin/sh\necho hello\n');
      chmodSync(script, 0o755);
      const notPython = await rejection(find(script));
      expect(notPython.exitCode).to.equal(ExitCode.notFound);
      expect(notPython.message).to.include('not a Python').and.include(oldest.version);
    });

    it('rejects an invalid spec as a usage error that lists what was found', async () => {
      const error = await rejection(find('>=three'));
      expect(error.exitCode).to.equal(ExitCode.usage);
      expect(error.message).to.include(newest.version);
      const garbage = await rejection(find('py thon'));
      expect(garbage.exitCode).to.equal(ExitCode.usage);
      expect(garbage.message).to.include('Found:').and.include(oldest.version);
    });

    it('lists Python 2 but refuses it with a reason when asked for it', async function () {
      const py2 = (await machineInterpreters()).find((i) => i.versionInfo[0] === 2);
      if (!py2) this.skip();
      world.addVersion(py2.version, py2, 'python');
      const listed = await listInterpreters({ env: world.env, cwd: project });
      const entry = listed.find((i) => i.version === py2.version);
      expect(entry?.supported).to.equal(false);
      const error = await rejection(find('2'));
      expect(error.exitCode).to.equal(ExitCode.usage);
      expect(error.message).to.match(/PEP 405/);
      // A specifier that Python 2 also satisfies picks a usable one.
      expect((await find('>=2')).versionInfo[0]).to.equal(3);
    });

    it('says clearly when there is no Python at all', async () => {
      const empty = makeWorld();
      try {
        const error = await rejection(findPython(undefined, { env: empty.env, cwd: empty.root }));
        expect(error.exitCode).to.equal(ExitCode.notFound);
        expect(error.message).to.match(/No Python interpreter was found/);
      } finally {
        empty.cleanup();
      }
    });
  });

  describe('the facts cache', () => {
    const cachePath = () => join(world.blastHome, 'cache', 'interpreters.json');
    type CacheData = { entries: Record<string, { mtimeMs: number; facts: { versionInfo: unknown[] } }> };
    const readCache = () => JSON.parse(readFileSync(cachePath(), 'utf8')) as CacheData;

    it('stores facts by realpath and answers from them without running Python', async () => {
      await find();
      const data = readCache();
      const entry = data.entries[newest.realpath];
      expect(entry, 'entry for the realpath').to.not.equal(undefined);
      // Doctor the cached facts: if they are used, Python was not asked again.
      (entry as CacheData['entries'][string]).facts.versionInfo[2] = 987;
      writeFileSync(cachePath(), JSON.stringify(data));
      expect((await find()).versionInfo[2]).to.equal(987);
    });

    it('asks again when the file changed (mtime or size)', async () => {
      await find();
      const data = readCache();
      const entry = data.entries[newest.realpath] as CacheData['entries'][string];
      entry.facts.versionInfo[2] = 987;
      entry.mtimeMs -= 1000;
      writeFileSync(cachePath(), JSON.stringify(data));
      expect((await find()).version).to.equal(newest.version);
      expect(readCache().entries[newest.realpath]?.facts.versionInfo[2]).to.equal(newest.versionInfo[2]);
    });

    it('ignores and rewrites a corrupt cache', async () => {
      mkdirSync(join(world.blastHome, 'cache'), { recursive: true });
      writeFileSync(cachePath(), '{"v":1,"entries":{"/x": [tru');
      expect((await find()).version).to.equal(newest.version);
      expect(readCache().entries[newest.realpath]).to.not.equal(undefined);
    });

    it('never caches a shim', async () => {
      await listInterpreters({ env: world.env, cwd: project });
      const keys = Object.keys(readCache().entries);
      expect(keys.filter((k) => k.startsWith(world.shims))).to.deep.equal([]);
    });
  });
});
