import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import * as pep440 from '@renovatebot/pep440';
import { BlastError, ExitCode } from '../../src/lib/cli/errors.js';
import type { Interpreter } from '../../src/lib/python/index.js';
import {
  createVenv,
  layoutOf,
  listSeeds,
  readVenv,
  staleSeedTemps,
  staleTemps,
  TEMP_PREFIX,
} from '../../src/lib/venv/index.js';
import { buildWheel, isolatedPipEnv } from '../support/wheels.js';
import { machineInterpreters, makeWorld, supportedByVersion } from '../python/world.js';

const pipEnv = isolatedPipEnv();

function run(file: string, args: string[], cwd?: string): string {
  return execFileSync(file, args, { env: pipEnv, encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function rejection(promise: Promise<unknown>): Promise<BlastError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(BlastError);
    return error as BlastError;
  }
  throw new Error('expected a BlastError');
}

/** Every entry under `dir` as `type path [-> target]`, relative, sorted. */
function tree(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const abs = join(d, name);
      const rel = relative(dir, abs);
      if (skip(rel)) continue;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.push(`l ${rel} -> ${readlinkSync(abs)}`);
      else if (st.isDirectory()) {
        out.push(`d ${rel}`);
        walk(abs);
      } else out.push(`f ${rel}`);
    }
  };
  walk(dir);
  return out.sort();
}

/** Spare directories of every seed under `home`. */
function spareDirs(home: string): string[] {
  const seeds = join(home, 'cache', 'seed');
  const out: string[] = [];
  for (const wheel of existsSync(seeds) ? readdirSync(seeds) : []) {
    for (const flavour of readdirSync(join(seeds, wheel))) out.push(join(seeds, wheel, flavour, 'spares'));
  }
  return out;
}

/** Wait until `cond` holds; fails after a generous bound. */
async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wait (bounded) until no background refill of spares runs under `home`. */
async function sparesSettled(home: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && spareDirs(home).some((d) => existsSync(join(d, '.lock')))) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

const versions = await supportedByVersion();
const targets = [
  ...new Map(
    [versions[0], versions.at(-1)].filter((i): i is Interpreter => !!i).map((i) => [i.version, i]),
  ).values(),
];

describe('createVenv', function () {
  let root: string;
  let env: Record<string, string | undefined>;
  /** Parents with a space, quotes and unicode in them. */
  let nasty: string;

  before(function () {
    if (targets.length === 0) this.skip();
    root = mkdtempSync(join(tmpdir(), 'blast-venv-'));
    env = { ...process.env, BLAST_HOME: join(root, 'home') };
    nasty = join(root, `with space 'quote' "dq" ü`);
    mkdirSync(nasty);
  });

  after(async () => {
    if (!root) return;
    await sparesSettled(env.BLAST_HOME as string);
    rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  for (const py of targets) {
    describe(`with Python ${py.version}`, () => {
      let dir: string;
      let other: string;

      before(async () => {
        dir = join(nasty, `env-${py.version}`);
        other = join(nasty, `other-${py.version}`);
        await createVenv(dir, py, { prompt: `it's ${py.version}`, env });
        await createVenv(other, py, { env });
      });

      it('makes a venv that Python runs as one, at exactly that path', () => {
        const out = run(join(dir, 'bin', 'python'), [
          '-c',
          'import sys; print(sys.prefix); print(sys.base_prefix)',
        ])
          .trimEnd()
          .split('\n');
        expect(out[0]).to.equal(dir);
        expect(out[1]).to.not.equal(dir);
        const sp = run(join(dir, 'bin', 'python'), [
          '-c',
          'import site; print(site.getsitepackages()[0])',
        ]).trim();
        expect(sp).to.equal(join(dir, layoutOf(py).sitePackages));
      });

      it('writes pyvenv.cfg and the python links as venv does', () => {
        const cfg = readVenv(dir);
        expect(cfg.home).to.equal(dirname(py.executable));
        expect(cfg.version).to.equal(py.versionInfo.join('.'));
        expect(cfg.executable).to.equal(py.realpath);
        expect(cfg.includeSystemSitePackages).to.equal(false);
        expect(cfg.prompt).to.equal(`it's ${py.version}`);
        expect(cfg.command).to.equal(`${py.executable} -m venv --prompt="it's ${py.version}" ${dir}`);
        expect(readlinkSync(join(dir, 'bin', basename(py.executable)))).to.equal(py.executable);
        for (const name of ['python', 'python3']) {
          expect(statSync(join(dir, 'bin', name)).ino, name).to.equal(statSync(py.realpath).ino);
        }
        if (layoutOf(py).lib64) expect(readlinkSync(join(dir, 'lib64'))).to.equal('lib');
      });

      it('has a working pip that belongs to the venv', () => {
        for (const name of ['pip', 'pip3', `pip${py.versionInfo[0]}.${py.versionInfo[1]}`]) {
          const out = run(join(dir, 'bin', name), ['--version']);
          expect(out, name).to.include(join(dir, layoutOf(py).sitePackages));
        }
      });

      it('installs and uninstalls a wheel offline with that pip', () => {
        const wheels = mkdtempSync(join(root, 'wheels-'));
        const wheel = buildWheel(py.executable, wheels);
        run(join(dir, 'bin', 'pip'), ['install', '--no-index', '--find-links', wheels, wheel.name]);
        expect(
          run(join(dir, 'bin', 'python'), ['-c', `import ${wheel.name}; print(${wheel.name}.VALUE)`]).trim(),
        ).to.equal(wheel.value);
        run(join(dir, 'bin', 'python'), ['-m', 'pip', 'uninstall', '-y', wheel.name]);
        expect(spawnSync(join(dir, 'bin', 'python'), ['-c', `import ${wheel.name}`]).status).to.not.equal(0);
      });

      it('activates with its own bin/activate', () => {
        const out = execFileSync(
          'bash',
          [
            '-c',
            'source "$1/bin/activate" && printf "%s\\n" "$VIRTUAL_ENV" "$(command -v python)"',
            '_',
            dir,
          ],
          { encoding: 'utf8', env: pipEnv },
        );
        expect(out).to.equal(`${dir}\n${join(dir, 'bin', 'python')}\n`);
      });

      it("shares pip's files by hard link, and one venv's uninstall leaves the other's intact", () => {
        const sp = layoutOf(py).sitePackages;
        const init = join('pip', '__init__.py');
        const [a, b] = [statSync(join(dir, sp, init)), statSync(join(other, sp, init))];
        expect(a.ino, 'hard-linked from the seed').to.equal(b.ino);
        run(join(other, 'bin', 'python'), ['-m', 'pip', 'uninstall', '-y', 'pip']);
        expect(spawnSync(join(other, 'bin', 'python'), ['-m', 'pip', '--version']).status).to.not.equal(0);
        expect(run(join(dir, 'bin', 'pip'), ['--version'])).to.include(join(dir, sp));
      });

      it('lays out the venv exactly like python -m venv (pip aside)', () => {
        const plain = join(root, `plain-${py.version}`);
        mkdirSync(plain);
        const target = join(plain, 'env');
        execFileSync(py.executable, ['-m', 'venv', '--without-pip', target], { env: pipEnv });
        renameSync(target, join(plain, 'reference'));
        return createVenv(target, py, { env }).then(() => {
          const sp = layoutOf(py).sitePackages;
          const notPip = (rel: string) => rel.startsWith(`${sp}/`) || /^bin\/pip/.test(rel);
          expect(tree(target, notPip)).to.deep.equal(tree(join(plain, 'reference'), notPip));
          for (const file of readdirSync(join(target, 'bin')).filter((n) => n.startsWith('activate'))) {
            expect(readFileSync(join(target, 'bin', file), 'utf8'), file).to.equal(
              readFileSync(join(plain, 'reference', 'bin', file), 'utf8'),
            );
          }
          const ours = readVenv(target).values;
          const theirs = readVenv(join(plain, 'reference')).values;
          for (const key of Object.keys(theirs).filter((k) => k !== 'command')) {
            expect(ours[key], key).to.equal(theirs[key]);
          }
        });
      });
    });
  }

  describe('paths and failures', () => {
    const newest = targets.at(-1) as Interpreter;

    it('works where a shebang cannot: a long path with $, ", backquote and backslash in it', async () => {
      const deep = join(root, 'x'.repeat(60), 'y'.repeat(60), 'we"ird $HOME `x` \\back');
      const dir = join(deep, 'env');
      await createVenv(dir, newest, { env });
      expect(readFileSync(join(dir, 'bin', 'pip'), 'utf8')).to.match(/^#!\/bin\/sh\n/);
      expect(run(join(dir, 'bin', 'pip'), ['--version'])).to.include(
        join(dir, layoutOf(newest).sitePackages),
      );
    });

    it('refills ready-made site-packages in the background and uses them', async () => {
      const home = join(root, 'spares-home');
      const spareEnv = { ...env, BLAST_HOME: home, BLAST_SEED_SPARES: '2' };
      const ready = () =>
        spareDirs(home).flatMap((d) =>
          existsSync(d) ? readdirSync(d).filter((n) => !n.startsWith('.')) : [],
        );
      await createVenv(join(root, 'spares', 'first'), newest, { env: spareEnv });
      await waitFor(() => ready().length === 2);
      const before = ready();
      const dir = join(root, 'spares', 'second');
      await createVenv(dir, newest, { env: spareEnv });
      // Spare names are unique: one of the two is gone, taken by this venv.
      expect(
        before.filter((n) => !ready().includes(n)),
        'one spare taken',
      ).to.have.length(1);
      const sp = join(dir, layoutOf(newest).sitePackages);
      expect(run(join(dir, 'bin', 'pip'), ['--version'])).to.include(sp);
      const dist = readdirSync(sp).find((n) => n.endsWith('.dist-info')) as string;
      expect(readFileSync(join(sp, dist, 'RECORD'), 'utf8')).to.include('../../../bin/pip,sha256=');
      await waitFor(() => ready().length === 2);
    });

    it('links pip file by file when spares are off', async () => {
      const home = join(root, 'nospares-home');
      const dir = join(root, 'nospares', 'env');
      await createVenv(dir, newest, { env: { ...env, BLAST_HOME: home, BLAST_SEED_SPARES: '0' } });
      expect(run(join(dir, 'bin', 'pip'), ['--version'])).to.include(
        join(dir, layoutOf(newest).sitePackages),
      );
      expect(spareDirs(home).filter(existsSync)).to.deep.equal([]);
    });

    it('writes extra files into the venv before it appears', async () => {
      const dir = join(root, 'extra', 'env');
      await createVenv(dir, newest, {
        env,
        extraFiles: { 'blast.json': '{"v":1}\n', 'etc/notes.txt': 'hi' },
      });
      expect(readFileSync(join(dir, 'blast.json'), 'utf8')).to.equal('{"v":1}\n');
      expect(readFileSync(join(dir, 'etc', 'notes.txt'), 'utf8')).to.equal('hi');
    });

    it('never touches an existing directory', async () => {
      const dir = join(root, 'existing');
      mkdirSync(dir);
      writeFileSync(join(dir, 'keep.txt'), 'mine');
      const error = await rejection(createVenv(dir, newest, { env }));
      expect(error.message).to.include('already exists');
      expect(readdirSync(dir)).to.deep.equal(['keep.txt']);
      const empty = join(root, 'empty');
      mkdirSync(empty);
      await rejection(createVenv(empty, newest, { env }));
      expect(readdirSync(empty)).to.deep.equal([]);
    });

    it('leaves nothing behind when creation fails, not even the parents it made', async () => {
      const parent = join(root, 'failing');
      mkdirSync(parent);
      const dir = join(parent, 'new', 'deeper', 'env');
      const error = await rejection(createVenv(dir, newest, { env, extraFiles: { '../../escape': 'x' } }));
      expect(error.exitCode).to.equal(ExitCode.failure);
      expect(readdirSync(parent)).to.deep.equal([]);
    });

    it('leaves nothing behind when the pip wheel is broken', async () => {
      const parent = join(root, 'badwheel');
      mkdirSync(parent);
      const wheel = join(parent, 'pip-99.0-py3-none-any.whl');
      writeFileSync(wheel, 'not a zip');
      const broken: Interpreter = { ...newest, facts: { ...newest.facts, pipWheel: wheel } };
      const error = await rejection(createVenv(join(parent, 'env'), broken, { env }));
      expect(error.message).to.include(wheel);
      expect(readdirSync(parent)).to.deep.equal(['pip-99.0-py3-none-any.whl']);
      const seeds = join(env.BLAST_HOME as string, 'cache', 'seed', 'pip-99.0-py3-none-any');
      expect(existsSync(seeds) ? readdirSync(seeds) : []).to.deep.equal([]);
    });

    it('refuses a path with the PATH separator in it', async () => {
      const error = await rejection(createVenv(join(root, 'a:b'), newest, { env }));
      expect(error.exitCode).to.equal(ExitCode.usage);
      expect(existsSync(join(root, 'a:b'))).to.equal(false);
    });

    it('lets exactly one of two concurrent creations win', async () => {
      const dir = join(root, 'race');
      const results = await Promise.allSettled([
        createVenv(dir, newest, { env }),
        createVenv(dir, newest, { env }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).to.be.instanceOf(BlastError);
      expect(run(join(dir, 'bin', 'pip'), ['--version'])).to.include(dir);
      expect(readdirSync(root).filter((n) => n.startsWith(TEMP_PREFIX))).to.deep.equal([]);
    });

    it('builds each seed once and keeps no temporary files', () => {
      const seeds = join(env.BLAST_HOME as string, 'cache', 'seed');
      for (const wheel of readdirSync(seeds)) {
        for (const flavour of readdirSync(join(seeds, wheel))) {
          expect(flavour.startsWith('.'), `${wheel}/${flavour}`).to.equal(false);
          expect(existsSync(join(seeds, wheel, flavour, 'manifest.json'))).to.equal(true);
        }
      }
    });

    it('borrows a compatible pip wheel from another Python when the interpreter has none', async function () {
      const all = await machineInterpreters();
      const compatible = all
        .map((i) => ({ wheel: i.facts.pipWheel, requires: i.facts.pipWheelRequiresPython }))
        .filter((w): w is { wheel: string; requires: string | null } => !!w.wheel)
        .filter((w) => !w.requires || pep440.satisfies(newest.version, w.requires, { prereleases: true }))
        .map((w) => /^pip-([^-]+)-/.exec(basename(w.wheel))?.[1] as string);
      if (compatible.length === 0) this.skip();
      const best = compatible.sort((a, b) => pep440.compare(a, b)).at(-1) as string;
      const bare: Interpreter = { ...newest, facts: { ...newest.facts, pipWheel: null } };
      const dir = join(root, 'borrowed');
      await createVenv(dir, bare, { env, cwd: process.cwd() });
      expect(run(join(dir, 'bin', 'pip'), ['--version'])).to.match(
        new RegExp(`^pip ${best.replace(/\./g, '\\.')} `),
      );
    });

    it('names the missing piece when no pip wheel can be found anywhere', async () => {
      const world = makeWorld();
      try {
        const bare: Interpreter = { ...newest, facts: { ...newest.facts, pipWheel: null } };
        const error = await rejection(
          createVenv(join(world.root, 'env'), bare, { env: world.env, cwd: world.root }),
        );
        expect(error.message).to.match(/no pip wheel/);
        expect(existsSync(join(world.root, 'env'))).to.equal(false);
      } finally {
        world.cleanup();
      }
    });
  });

  describe('leftovers for blast clean', () => {
    it('finds temporary directories of dead creators only', () => {
      const parent = mkdtempSync(join(root, 'stale-'));
      const dead = join(parent, `${TEMP_PREFIX}999999999-x-y`);
      const mine = join(parent, `${TEMP_PREFIX}${process.pid}-x-y`);
      mkdirSync(dead);
      mkdirSync(mine);
      mkdirSync(join(parent, 'env'));
      expect(staleTemps(parent)).to.deep.equal([dead]);
    });

    it('finds dead seed builds and spare refills', () => {
      const home = join(root, 'stale-home');
      const wheelDir = join(home, 'cache', 'seed', 'pip-1.0-py3-none-any');
      const spares = join(wheelDir, 'flavour', 'spares');
      mkdirSync(spares, { recursive: true });
      const paths = [
        join(wheelDir, '.tmp-999999999-1-flavour'),
        join(wheelDir, '.trash-999999999-1-flavour'),
        join(spares, '.building-999999999-1'),
      ];
      for (const p of paths) mkdirSync(p);
      mkdirSync(join(wheelDir, `.tmp-${process.pid}-1-flavour`));
      mkdirSync(join(spares, 'spare-1'));
      expect(staleSeedTemps({ BLAST_HOME: home }).sort()).to.deep.equal(paths.sort());
      expect(listSeeds({ BLAST_HOME: home })).to.deep.equal([join(wheelDir, 'flavour')]);
    });
  });

  describe('readVenv', () => {
    it('reports a missing pyvenv.cfg as not found', () => {
      const dir = mkdtempSync(join(root, 'novenv-'));
      expect(() => readVenv(dir))
        .to.throw(BlastError)
        .with.property('exitCode', ExitCode.notFound);
    });

    it('reports a pyvenv.cfg without home as corrupt', () => {
      const dir = mkdtempSync(join(root, 'corrupt-'));
      writeFileSync(join(dir, 'pyvenv.cfg'), 'version = 3.12.1\n');
      expect(() => readVenv(dir))
        .to.throw(BlastError, /corrupt/)
        .with.property('exitCode', ExitCode.failure);
    });
  });
});
