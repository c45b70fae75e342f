/**
 * Locks: `blast save --lock` through the real CLI, and making an environment match a lock (the
 * library `blast load --lock` calls) with real pip, wheels this test builds and no network: pip
 * finds archives only through PIP_NO_INDEX=1 PIP_FIND_LINKS=<dir>.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'smol-toml';
import { readEnvConfig, infoOf } from '../src/lib/envs/config.js';
import { isBlastError } from '../src/lib/cli/errors.js';
import {
  applyLock,
  lockFormat,
  type LockResult,
  parsePylock,
  parseRequirements,
  readLock,
  writePylock,
  writeRequirements,
} from '../src/lib/lockfiles/index.js';
import { drawTasks } from '../src/lib/cli/tasks.js';
import { blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { tree, treeDiff } from './store/world.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('locks: blast save --lock and applying a lock', function () {
  this.timeout(200_000);
  let box: Sandbox;
  let wheels: string;
  let empty: string;
  let source: string;
  let dir: string;
  /** pip's environment: this machine's pip config ignored, archives only from `links`. */
  const pipVars = (links: string) => ({
    ...(isolatedPipEnv(box.env) as Record<string, string>),
    PIP_NO_INDEX: '1',
    // pip splits this variable on whitespace, and the sandbox's path has a space: a file URL has none.
    PIP_FIND_LINKS: pathToFileURL(links).href,
  });
  const envPath = (name: string) => join(box.blastHome, 'envs', name);
  const start = (name: string) => {
    const run = throughFunction(box, ['start', name]);
    expect(run.status, run.stderr).to.equal(0);
    return envPath(name);
  };
  const pip = (env: string, ...args: string[]) =>
    execFileSync(join(env, 'bin', 'python'), ['-m', 'pip', ...args], {
      env: pipVars(wheels),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const dists = (env: string) =>
    (JSON.parse(pip(env, 'list', '--format', 'json')) as { name: string; version: string }[])
      .map((d) => `${d.name} ${d.version}`)
      .filter((d) => !d.startsWith('pip '))
      .sort();
  const value = (env: string, module: string) =>
    execFileSync(join(env, 'bin', 'python'), ['-c', `import ${module}; print(${module}.VALUE)`], {
      encoding: 'utf8',
    }).trim();
  const applyIn = async (env: string, file: string, links = wheels): Promise<LockResult> =>
    applyLock(env, readLock(file), {
      info: infoOf(env, (await readEnvConfig(env))!),
      env: pipVars(links),
    });
  const saveLock = (env: string, file: string, extra: string[] = []) => {
    const run = blast(box, ['save', '--path', env, '--lock', file, '--json', ...extra], {
      env: pipVars(wheels),
    });
    expect(run.status, run.stderr).to.equal(0);
    return { run, saved: JSON.parse(run.stdout) as { lock: { file: string; skipped: { name: string }[] } } };
  };
  /** `blast load --path ENV --lock FILE --json` through the real CLI. */
  const loadCli = (env: string, file: string, links = wheels) =>
    blast(box, ['load', '--path', env, '--lock', file, '--json'], { env: pipVars(links) });
  const loadOk = (env: string, file: string, links = wheels) => {
    const run = loadCli(env, file, links);
    expect(run.status, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as LockResult;
  };
  /** What a failed call threw (it must throw). */
  const thrown = async (fn: () => Promise<unknown>): Promise<Error> => {
    try {
      await fn();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected an error');
  };

  before(() => {
    box = sandbox();
    wheels = join(box.root, 'wheels');
    empty = join(box.root, 'no wheels');
    dir = join(box.root, 'locks');
    for (const d of [wheels, empty, dir]) mkdirSync(d);
    source = start('source');
    const python = join(source, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha' });
    buildWheel(python, wheels, 'beta', '1.0');
    buildWheel(python, wheels, 'gamma', '1.0');
    pip(source, 'install', 'alpha==1.0', 'beta==1.0');
  });

  after(() => box?.cleanup());

  it('save --lock requirements.txt pins each distribution with its archive sha256 (pip itself left out)', () => {
    const file = join(dir, 'requirements.txt');
    const { run, saved } = saveLock(source, file);
    expect(saved.lock.file).to.equal(file);
    expect(saved.lock.skipped.map((s) => s.name)).to.deep.equal(['pip']);
    expect(run.stderr).to.match(/^blast: /m);
    expect(run.stderr).not.to.include('\x1b'); // not a terminal: plain lines, no ANSI
    const text = readFileSync(file, 'utf8');
    expect(text).to.include(
      `alpha==1.0 \\\n    --hash=sha256:${sha256(join(wheels, 'alpha-1.0-py3-none-any.whl'))}\n`,
    );
    expect(text).to.include(
      `beta==1.0 \\\n    --hash=sha256:${sha256(join(wheels, 'beta-1.0-py3-none-any.whl'))}\n`,
    );
    expect(text).not.to.match(/^pip==/m);
    // What pip itself accepts as a hash-checked requirements file.
    const plain = start('plain');
    pip(plain, 'install', '--no-deps', '--require-hashes', '-r', file);
    expect(dists(plain)).to.deep.equal(['alpha 1.0', 'beta 1.0']);
  });

  it('requirements round trip: a fresh env gets the same distributions (from the source environment objects in the store), extras removed', async () => {
    const file = join(dir, 'requirements.txt');
    const fresh = start('fresh-req');
    pip(fresh, 'install', 'gamma==1.0', 'alpha==2.0');
    const result = loadOk(fresh, file);
    // Another environment (source) has them in the store, with the very archives the lock names.
    expect(result.pipRan).to.equal(false);
    expect(result.relinked).to.deep.equal(['alpha 1.0', 'beta 1.0']);
    expect(result.removed).to.deep.equal(['gamma 1.0']);
    expect(result.recordedAs).to.be.a('number');
    expect(dists(fresh)).to.deep.equal(dists(source));
    expect(value(fresh, 'alpha')).to.equal('alpha 1.0 works');
    expect(value(fresh, 'beta')).to.equal('beta 1.0 works');
    expect(existsSync(join(fresh, 'bin', 'alpha'))).to.equal(true);
    // Already as the lock has it: nothing to do, no pip.
    const again = blast(box, ['load', '--path', fresh, '--lock', file], { env: pipVars(empty) });
    expect(again.status, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/^fresh-req already matches .*requirements\.txt\.$/m);
    expect(again.stderr).not.to.include('\x1b');
  });

  it('pylock.toml round trip (PEP 751 fields) into a fresh env', async () => {
    const file = join(dir, 'pylock.toml');
    saveLock(source, file);
    const doc = parse(readFileSync(file, 'utf8')) as {
      'lock-version': string;
      'created-by': string;
      'requires-python': string;
      packages: {
        name: string;
        version: string;
        wheels: { name: string; url: string; hashes: { sha256: string } }[];
      }[];
    };
    expect(doc['lock-version']).to.equal('1.0');
    expect(doc['created-by']).to.equal('blast');
    expect(doc['requires-python']).to.match(/^==3\.\d+\.\*$/);
    expect(doc.packages.map((p) => [p.name, p.version])).to.deep.equal([
      ['alpha', '1.0'],
      ['beta', '1.0'],
    ]);
    const wheel = doc.packages[0]!.wheels[0]!;
    expect(wheel.name).to.equal('alpha-1.0-py3-none-any.whl');
    expect(wheel.url).to.match(/^file:\/\/.*alpha-1\.0-py3-none-any\.whl$/);
    expect(wheel.hashes.sha256).to.equal(sha256(join(wheels, 'alpha-1.0-py3-none-any.whl')));

    const fresh = start('fresh-pylock');
    // The source environment had them, from the very archives the lock names: served from the store.
    const result = await applyIn(fresh, file);
    expect(result.relinked).to.deep.equal(['alpha 1.0', 'beta 1.0']);
    expect(dists(fresh)).to.deep.equal(['alpha 1.0', 'beta 1.0']);
    expect(value(fresh, 'alpha')).to.equal('alpha 1.0 works');
  });

  it('a tampered hash fails the load and leaves the environment exactly as it was', async () => {
    const good = readFileSync(join(dir, 'requirements.txt'), 'utf8');
    const bad = join(dir, 'tampered.txt');
    const hash = sha256(join(wheels, 'beta-1.0-py3-none-any.whl'));
    writeFileSync(
      bad,
      good.replace(
        hash,
        hash.replace(/^./, (c) => (c === '0' ? '1' : '0')),
      ),
    );
    const target = start('tamper');
    pip(target, 'install', 'alpha==2.0', 'gamma==1.0');
    const before = tree(target);
    const run = loadCli(target, bad);
    expect(run.status).to.equal(1);
    const error = (JSON.parse(run.stdout) as { error: { message: string } }).error;
    expect(error.message).to.match(/put back as it was before `blast load --lock`/);
    expect(error.message).to.include('DO NOT MATCH THE HASHES');
    expect(run.stderr).not.to.match(/\n\s+at /);
    expect(treeDiff(tree(target), before)).to.deep.equal([]);
    expect(dists(target)).to.deep.equal(['alpha 2.0', 'gamma 1.0']);
  });

  it('offline: what the store has for this env comes back by re-linking, with no pip and no index', async () => {
    const file = join(dir, 'requirements.txt');
    const env = start('offline');
    pip(env, 'install', 'alpha==1.0', 'beta==1.0');
    saveLock(env, join(dir, 'offline.txt')); // also a snapshot: the store now has alpha 1.0 and beta 1.0
    pip(env, 'install', 'alpha==2.0', 'gamma==1.0');
    pip(env, 'uninstall', '-y', 'beta');
    // An empty find-links dir and no index: any pip install would fail.
    const result = loadOk(env, file, empty);
    expect(result.pipRan).to.equal(false);
    expect(result.relinked).to.deep.equal(['alpha 1.0', 'beta 1.0']);
    expect(result.removed).to.deep.equal(['gamma 1.0']);
    expect(dists(env)).to.deep.equal(['alpha 1.0', 'beta 1.0']);
    expect(value(env, 'alpha')).to.equal('alpha 1.0 works');
    expect(execFileSync(join(env, 'bin', 'alpha'), { encoding: 'utf8' })).to.equal('alpha 1.0 works\n');
    // A distribution the store never had for this env does need pip, which fails without an
    // index: nothing is re-linked or removed then either.
    pip(env, 'install', 'alpha==2.0');
    const before = tree(env);
    const withDelta = join(dir, 'with-gamma.txt');
    writeFileSync(withDelta, readFileSync(file, 'utf8') + `delta==1.0 --hash=sha256:${'0'.repeat(64)}\n`);
    const failed = loadCli(env, withDelta, empty);
    expect(failed.status).to.equal(1);
    expect(failed.stdout).to.match(/put back as it was/);
    expect(treeDiff(tree(env), before)).to.deep.equal([]);
  });

  it('offline from the history too: a version the env had only as a revision is re-linked', () => {
    const env = start('history');
    pip(env, 'install', 'alpha==1.0');
    const seen = blast(box, ['history', '--path', env]); // records the change made around Blast
    expect(seen.status, seen.stderr).to.equal(0);
    pip(env, 'install', 'alpha==2.0');
    const only = join(dir, 'alpha-only.txt');
    writeFileSync(only, `alpha==1.0 --hash=sha256:${sha256(join(wheels, 'alpha-1.0-py3-none-any.whl'))}\n`);
    const result = loadOk(env, only, empty);
    expect([result.pipRan, result.relinked]).to.deep.equal([false, ['alpha 1.0']]);
    expect(value(env, 'alpha')).to.equal('alpha 1.0 works');
  });

  it('a distribution installed from an archive file is locked as name @ URL with the hash pip recorded', () => {
    const env = start('direct');
    const gamma = join(wheels, 'gamma-1.0-py3-none-any.whl');
    pip(env, 'install', gamma);
    const file = join(dir, 'direct.txt');
    saveLock(env, file);
    expect(readFileSync(file, 'utf8')).to.include(
      `gamma @ ${pathToFileURL(gamma).href} \\\n    --hash=sha256:${sha256(gamma)}\n`,
    );
    const fresh = start('direct-fresh');
    loadOk(fresh, file, empty); // the URL itself, no index needed
    expect(dists(fresh)).to.deep.equal(['gamma 1.0']);
  });

  it('reads a pylock.toml written elsewhere: relative paths, the wheel that fits, markers', async () => {
    const foreign = join(box.root, 'foreign');
    mkdirSync(join(foreign, 'dist'), { recursive: true });
    const python = join(source, 'bin', 'python');
    const beta = buildWheel(python, join(foreign, 'dist'), 'beta', '1.0');
    const file = join(foreign, 'pylock.toml');
    writeFileSync(
      file,
      [
        'lock-version = "1.0"',
        'created-by = "uv"',
        'requires-python = ">=3.8"',
        '',
        '[[packages]]',
        'name = "beta"',
        'version = "1.0"',
        'wheels = [',
        // Never fetched: no Python this test runs has this tag.
        `  { name = "beta-1.0-cp27-cp27m-win32.whl", url = "https://example.invalid/beta-1.0-cp27-cp27m-win32.whl", hashes = { sha256 = "${'1'.repeat(64)}" } },`,
        `  { path = "dist/beta-1.0-py3-none-any.whl", hashes = { sha256 = "${sha256(beta.path)}" } },`,
        ']',
        '',
        '[[packages]]',
        'name = "gamma"',
        'version = "1.0"',
        'marker = "sys_platform == \'win32\'"',
        `wheels = [{ url = "https://example.invalid/gamma-1.0-py3-none-any.whl", hashes = { sha256 = "${'2'.repeat(64)}" } }]`,
        '',
      ].join('\n'),
    );
    const env = start('foreign');
    const result = await applyIn(env, file, empty);
    expect(result.installed).to.deep.equal(['beta 1.0']);
    expect(result.notForHere).to.deep.equal(['gamma 1.0']);
    expect(dists(env)).to.deep.equal(['beta 1.0']);
  });

  it('names bad locks and lock names clearly, writing nothing', async () => {
    const snapshots = () =>
      readdirSync(join(box.blastHome, 'store', 'snapshots')).flatMap((d) =>
        readdirSync(join(box.blastHome, 'store', 'snapshots', d)),
      );
    const count = snapshots().length;
    const run = blast(box, ['save', '--path', source, '--lock', join(dir, 'lock.json')], {
      env: pipVars(wheels),
    });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.match(/Cannot tell the lock format of "lock\.json"/);
    expect(run.stderr).not.to.match(/\n\s+at /);
    expect(existsSync(join(dir, 'lock.json'))).to.equal(false);
    // pip cannot find the archives (and the store does not know which wheels they came from): no
    // lock and no snapshot.
    rmSync(join(box.blastHome, 'store', 'wheels.json'), { force: true });
    const lost = blast(box, ['save', '--path', source, '--lock', join(dir, 'lost.txt')], {
      env: pipVars(empty),
    });
    expect(lost.status, lost.stderr).to.equal(1);
    expect(lost.stderr).to.match(/pip could not find the archives to hash/);
    expect(existsSync(join(dir, 'lost.txt'))).to.equal(false);
    expect(snapshots().length).to.equal(count);
    const missing = blast(box, ['load', '--path', source, '--lock', join(dir, 'nope.txt')]);
    expect(missing.status).to.equal(3);
    expect(missing.stderr).to.match(/There is no lock file/);
    const both = blast(box, ['load', '--path', source, '--lock', join(dir, 'requirements.txt'), 'first']);
    expect(both.status).to.equal(2);
    expect(both.stderr).to.match(/--lock takes no snapshot name/);
    const unknown = await thrown(() => applyIn(source, join(dir, 'lock.json')));
    expect(isBlastError(unknown) && unknown.message).to.match(/Cannot tell the lock format/);
  });

  describe('lock formats', () => {
    it('chooses the format from the file name', () => {
      expect(lockFormat('/x/requirements.txt')).to.equal('requirements');
      expect(lockFormat('requirements-dev.txt')).to.equal('requirements');
      expect(lockFormat('pylock.toml')).to.equal('pylock');
      expect(lockFormat('a/pylock.web.toml')).to.equal('pylock');
      for (const bad of ['lock.json', 'pylock.a.b.toml', 'Pipfile.lock', '.txt', 'pyproject.toml']) {
        expect(() => lockFormat(bad), bad).to.throw(/Cannot tell the lock format/);
      }
    });

    it('reads requirements as pip-compile and uv write them', () => {
      const h = (c: string) => c.repeat(64);
      const lock = parseRequirements(
        [
          '# comment',
          '--index-url https://pypi.example/simple',
          '--find-links ./wheels',
          'Alpha_Pkg[extra]==1.0 \\',
          `    --hash=sha256:${h('a')} \\`,
          `    --hash=sha256:${h('B')}`,
          `    # via something`,
          `beta==2.0 ; python_version >= "3.8" --hash=sha256:${h('c')}`,
          `gamma @ https://files.example/gamma-3.1-py3-none-any.whl#sha256=x --hash=sha256:${h('d')}`,
          '',
        ].join('\n'),
        '/p/requirements.txt',
      );
      expect(lock.pipOptions).to.deep.equal([
        '--index-url https://pypi.example/simple',
        '--find-links /p/wheels',
      ]);
      expect(
        lock.distributions.map((d) => [d.name, d.version, d.marker, d.archives.map((a) => a.sha256[0])]),
      ).to.deep.equal([
        ['Alpha_Pkg', '1.0', undefined, ['a', 'b']],
        ['beta', '2.0', 'python_version >= "3.8"', ['c']],
        ['gamma', '3.1', undefined, ['d']],
      ]);
      expect(lock.distributions[2]!.archives[0]!.url).to.match(/^https:\/\/files\.example\/gamma-3\.1/);
    });

    it('refuses requirements that are not a lock', () => {
      const cases: [string, RegExp][] = [
        ['alpha>=1.0 --hash=sha256:' + 'a'.repeat(64), /is not pinned to one version/],
        ['alpha==1.0', /has no --hash/],
        ['-e ./src', /-e is not something a lock can say/],
        ['-r other.txt', /-r is not something a lock can say/],
        ['alpha==1.0 --hash=md5:abc', /is not a sha256 hash/],
        ['alpha @ git+https://x/y --hash=sha256:' + 'a'.repeat(64), /cannot tell the version/],
      ];
      for (const [text, message] of cases) {
        expect(() => parseRequirements(text + '\n', 'r.txt'), text).to.throw(message);
      }
    });

    it('writes locks its own readers read back the same', () => {
      const dists = [
        {
          name: 'alpha',
          version: '1.0',
          archives: [
            {
              kind: 'wheel' as const,
              filename: 'alpha-1.0-py3-none-any.whl',
              url: 'file:///w/alpha-1.0-py3-none-any.whl',
              sha256: 'a'.repeat(64),
            },
          ],
        },
        {
          name: 'beta',
          version: '2.0',
          direct: true,
          archives: [
            {
              kind: 'sdist' as const,
              filename: 'beta-2.0.tar.gz',
              url: 'https://x/beta-2.0.tar.gz',
              sha256: 'b'.repeat(64),
            },
          ],
        },
      ];
      const header = { python: '3.12.1', env: 'demo', createdAt: '2026-01-01T00:00:00Z' };
      const req = parseRequirements(writeRequirements(dists, header), 'r.txt');
      expect(
        req.distributions.map((d) => [d.name, d.version, d.archives[0]!.sha256, d.archives[0]!.url]),
      ).to.deep.equal([
        ['alpha', '1.0', 'a'.repeat(64), undefined],
        ['beta', '2.0', 'b'.repeat(64), 'https://x/beta-2.0.tar.gz'],
      ]);
      expect(parsePylock(writePylock([], header), 'pylock.toml').distributions).to.deep.equal([]);
      expect(parseRequirements(writeRequirements([], header), 'r.txt').distributions).to.deep.equal([]);
      const py = parsePylock(writePylock(dists, header), 'pylock.toml');
      expect(py.requiresPython).to.equal('==3.12.*');
      expect(
        py.distributions.map((d) => d.archives.map((a) => [a.kind, a.filename, a.url, a.sha256])),
      ).to.deep.equal(dists.map((d) => d.archives.map((a) => [a.kind, a.filename, a.url, a.sha256])));
    });

    it('refuses pylock.toml entries it cannot check or install', () => {
      const head = 'lock-version = "1.0"\ncreated-by = "x"\n';
      const cases: [string, RegExp][] = [
        ['lock-version = "2.0"\n[[packages]]\nname = "a"\n', /lock-version "2\.0" is not one Blast reads/],
        [
          head +
            '[[packages]]\nname = "a"\nversion = "1"\nvcs = { type = "git", url = "x", commit-id = "y" }\n',
          /comes from a VCS checkout/,
        ],
        [
          head +
            '[[packages]]\nname = "a"\nversion = "1"\nwheels = [{ url = "https://x/a-1-py3-none-any.whl" }]\n',
          /has no sha256 hash/,
        ],
        [head + '[[packages]]\nname = "a"\nversion = "1"\n', /has no wheels, sdist or archive/],
        [head + 'packages = [', /not valid TOML/],
      ];
      for (const [text, message] of cases)
        expect(() => parsePylock(text, 'pylock.toml'), text).to.throw(message);
    });
  });

  describe('task lists', () => {
    const tty = { isTTY: true, columns: 80 } as unknown as NodeJS.WriteStream;
    it('are drawn only on a terminal, never for --json, in CI or on a dumb terminal', () => {
      expect(drawTasks({ stream: tty, env: {} })).to.equal(true);
      expect(drawTasks({ stream: tty, env: {}, json: true })).to.equal(false);
      expect(drawTasks({ stream: tty, env: { CI: 'true' } })).to.equal(false);
      expect(drawTasks({ stream: tty, env: { TERM: 'dumb' } })).to.equal(false);
      expect(drawTasks({ stream: { isTTY: false } as unknown as NodeJS.WriteStream, env: {} })).to.equal(
        false,
      );
    });

    it('draws a listr2 task list for save --lock on a terminal (a pty from script(1))', () => {
      // Outside CI, as a user at a terminal: CI=… turns the task list off (tested above).
      const env: Record<string, string> = { ...box.env, ...pipVars(wheels) };
      delete env.CI;
      const out = execFileSync(
        'script',
        [
          '-qec',
          `stty cols 100; "${process.execPath}" "${join(process.cwd(), 'bin', 'run.js')}" save --path "${source}" --lock "${join(dir, 'tty.txt')}"`,
          '/dev/null',
        ],
        { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(out).to.include('\x1b[?25l'); // the renderer hides the cursor while it draws
      expect(out).to.match(/✔ Hashed 2 archive\(s\)/);
      expect(out).not.to.match(/^blast: /m);
    });
  });
});
