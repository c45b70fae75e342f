/**
 * `blast start` and the environments people already have: venvs made by `python -m venv`,
 * virtualenv and uv taken in as they are (revision 1 "adopted"), every created environment's
 * revision 1 ("created") so the first change made around the shim can be undone, and projects
 * found from their subdirectories (`.blast-env`, `.venv`), in real directory trees.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { blast, sandbox, throughFunction, type Run, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { supportedByVersion } from './python/world.js';

interface Revision {
  kind: string;
  n?: number;
  source?: string;
  detail?: string;
  change?: { added: string[]; removed: string[] };
}

/** Every file under `dir` (but blast.json) with its bytes and mode, to show nothing was changed. */
function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, name.name);
      const rel = relative(dir, abs);
      if (rel === 'blast.json' || name.name === '__pycache__') continue;
      if (name.isDirectory()) walk(abs);
      else if (name.isFile()) out.set(rel, `${statSync(abs).mode}:${readFileSync(abs, 'base64')}`);
      else out.set(rel, 'link');
    }
  };
  walk(dir);
  return out;
}

describe('blast start with the environments people already have, and projects', function () {
  this.timeout(300_000);
  let box: Sandbox;
  let python: string;
  let wheels: string;

  const pipEnv = () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  const started = (args: string[], cwd?: string): Run & { script: string } => {
    const run = throughFunction(box, args, cwd ? { cwd } : {});
    expect(run.status, `start ${args.join(' ')}: ${run.stderr}`).to.equal(0);
    return run;
  };
  const history = (args: string[]): Revision[] => {
    const run = blast(box, ['history', ...args, '--json']);
    expect(run.status, run.stderr).to.equal(0);
    return (JSON.parse(run.stdout) as { entries: Revision[] }).entries.filter((e) => e.kind === 'revision');
  };
  /** `python -m pip install NAME` in the environment: around the shim, as poetry or a user does. */
  const modulePip = (venv: string, ...args: string[]) =>
    execFileSync(join(venv, 'bin', 'python'), ['-m', 'pip', ...args, '--no-index', '--find-links', wheels], {
      env: pipEnv(),
      stdio: 'pipe',
    });
  const hasAlpha = (venv: string) =>
    spawnSync(join(venv, 'bin', 'python'), ['-c', 'import alpha'], { env: pipEnv() }).status === 0;
  const config = (venv: string) => JSON.parse(readFileSync(join(venv, 'blast.json'), 'utf8'));
  const venvOf = (run: { script: string }) => /VIRTUAL_ENV='([^']*)'/.exec(run.script)?.[1];

  before(async () => {
    box = sandbox();
    const [interp] = await supportedByVersion();
    python = interp!.realpath;
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
  });
  after(() => box?.cleanup());

  describe('venvs made by other tools', () => {
    const project = () => join(box.home, 'made-by-venv');
    const venv = () => join(project(), '.venv');
    let untouched: Map<string, string>;
    let run: Run & { script: string };

    before(() => {
      mkdirSync(join(project(), 'src', 'pkg'), { recursive: true });
      execFileSync(python, ['-m', 'venv', venv()], { env: pipEnv(), stdio: 'pipe' });
      untouched = files(venv());
      run = started(['start'], join(project(), 'src', 'pkg'));
    });

    it('python -m venv: taken in from a subdirectory of its project, its own files untouched', () => {
      expect(run.stderr).to.include(`blast: using the project's environment ${venv()}`);
      expect(run.stderr).to.match(/blast: took in made-by-venv \(Python \S+, made by python -m venv\)/);
      expect(venvOf(run)).to.equal(venv());
      // Activate scripts, pyvenv.cfg, shebangs: byte for byte and mode for mode as they were.
      expect(files(venv())).to.deep.equal(untouched);
      expect(config(venv()).adopted).to.deep.include({ madeBy: 'python -m venv', added: ['blast.json'] });
      const listed = JSON.parse(blast(box, ['list', '--json']).stdout) as Array<{ path: string }>;
      expect(listed.map((e) => e.path)).to.include(venv());
      // Its own activate still drives it.
      const prefix = execFileSync(
        'bash',
        ['-c', `. "$1/bin/activate" && python -c 'import sys; print(sys.prefix)'`, 'bash', venv()],
        { env: pipEnv(), encoding: 'utf8' },
      ).trim();
      expect(prefix).to.equal(venv());
    });

    it('its state as found is revision 1, and the first change around the shim can be undone', () => {
      expect(history(['--path', venv()]).map((r) => [r.n, r.source, r.detail])).to.deep.equal([
        [1, 'adopted', 'python -m venv'],
      ]);
      modulePip(venv(), 'install', 'alpha');
      const revisions = history(['--path', venv()]);
      expect(revisions.map((r) => [r.n, r.source])).to.deep.equal([
        [1, 'adopted'],
        [2, 'outside'],
      ]);
      expect(revisions[1]!.change!.added).to.deep.equal(['alpha 1.0']);
      const load = blast(box, ['load', '--path', venv(), '--revision', '1']);
      expect(load.status, load.stderr).to.equal(0);
      expect(hasAlpha(venv())).to.equal(false);
    });

    it('virtualenv (or a venv with its pyvenv.cfg keys) and uv, as --path and as a name', () => {
      const other = join(box.root, 'virtualenv-made');
      let version = '20.26.3';
      if (spawnSync(python, ['-c', 'import virtualenv'], { env: pipEnv() }).status === 0) {
        execFileSync(python, ['-m', 'virtualenv', '-q', '--no-pip', '--no-setuptools', '--no-wheel', other], {
          env: pipEnv(),
          stdio: 'pipe',
        });
        version = /^virtualenv = (.+)$/m.exec(readFileSync(join(other, 'pyvenv.cfg'), 'utf8'))![1]!.trim();
      } else {
        // virtualenv is not installed (no network here to get it): its pyvenv.cfg keys are what tell.
        execFileSync(python, ['-m', 'venv', '--without-pip', other], { env: pipEnv(), stdio: 'pipe' });
        const cfg = readFileSync(join(other, 'pyvenv.cfg'), 'utf8')
          .split('\n')
          .filter((l) => !/^(command|version)\b/.test(l))
          .join('\n');
        writeFileSync(
          join(other, 'pyvenv.cfg'),
          `${cfg.trim()}\nimplementation = CPython\nvirtualenv = ${version}\n`,
        );
      }
      const v = started(['start', '--path', other]);
      expect(v.stderr).to.include(`made by virtualenv ${version}`);
      expect(config(other)).to.deep.include({ kind: 'local' });

      // uv writes `uv = X.Y.Z` (and no `command`); a venv under BLAST_HOME/envs is a named one.
      const named = join(box.blastHome, 'envs', 'uvmade');
      mkdirSync(join(box.blastHome, 'envs'), { recursive: true });
      execFileSync(python, ['-m', 'venv', '--without-pip', named], { env: pipEnv(), stdio: 'pipe' });
      const cfg = readFileSync(join(named, 'pyvenv.cfg'), 'utf8').replace(/^command = .*\n/m, '');
      writeFileSync(join(named, 'pyvenv.cfg'), `${cfg}uv = 0.4.18\nversion_info = 3.12.0\n`);
      const u = started(['start', 'uvmade']);
      expect(u.stderr).to.include('made by uv 0.4.18');
      expect(config(named)).to.deep.include({ kind: 'named', name: 'uvmade' });
      expect(history(['--env', 'uvmade']).map((r) => r.source)).to.deep.equal(['adopted']);
    });

    it('refuses what is not a venv, with why and the way out, writing nothing', () => {
      const refused = (dir: string, why: string) => {
        const r = throughFunction(box, ['start', '--path', dir]);
        expect(r.status, r.stderr).to.equal(2);
        expect(r.stderr).to.include(`${dir} is not a virtual environment Blast can take in: ${why}`);
        expect(r.stderr).to.include('python3 -m venv --clear');
        expect(existsSync(join(dir, 'blast.json'))).to.equal(false);
      };
      const noPython = join(box.root, 'no-python');
      mkdirSync(join(noPython, 'bin'), { recursive: true });
      writeFileSync(join(noPython, 'pyvenv.cfg'), `home = ${join(python, '..')}\n`);
      refused(noPython, `it has no ${join(noPython, 'bin', 'python')}`);

      const deadPython = join(box.root, 'dead-python');
      mkdirSync(join(deadPython, 'bin'), { recursive: true });
      writeFileSync(join(deadPython, 'pyvenv.cfg'), `home = ${join(python, '..')}\n`);
      writeFileSync(
        join(deadPython, 'bin', 'python'),
        '#!/bin/sh\necho "libpython3.so: cannot open" >&2\nexit 127\n',
      );
      chmodSync(join(deadPython, 'bin', 'python'), 0o755);
      refused(deadPython, 'its Python does not run');

      const noHome = join(box.root, 'no-home');
      mkdirSync(noHome);
      writeFileSync(join(noHome, 'pyvenv.cfg'), 'include-system-site-packages = false\n');
      refused(noHome, `${join(noHome, 'pyvenv.cfg')} is corrupt: it has no "home = ..." line`);
      const listed = JSON.parse(blast(box, ['list', '--json']).stdout) as Array<{ path: string }>;
      expect(listed.map((e) => e.path)).to.not.include.members([noPython, deadPython, noHome]);
    });
  });

  it('a created environment is revision 1 "created": the first `python -m pip` change is undone', () => {
    const run = started(['start', 'fresh']);
    const venv = venvOf(run)!;
    expect(history(['--env', 'fresh']).map((r) => [r.n, r.source])).to.deep.equal([[1, 'created']]);
    modulePip(venv, 'install', 'alpha');
    expect(history(['--env', 'fresh']).map((r) => [r.n, r.source])).to.deep.equal([
      [1, 'created'],
      [2, 'outside'],
    ]);
    const load = blast(box, ['load', '--env', 'fresh', '--revision', '1']);
    expect(load.status, load.stderr).to.equal(0);
    expect(hasAlpha(venv)).to.equal(false);
  });

  describe('projects', () => {
    it('plain start in a subdirectory takes the nearest .blast-env or .venv, stopping at HOME', () => {
      const proj = join(box.home, 'webapp');
      const inner = join(proj, 'services', 'worker');
      mkdirSync(join(proj, 'docs', 'api'), { recursive: true });
      mkdirSync(join(inner, 'src'), { recursive: true });
      writeFileSync(join(proj, '.blast-env'), 'webapp-env\n');
      // The named environment the project file names (created by this start).
      const named = started(['start'], join(proj, 'docs', 'api'));
      expect(named.stderr).to.include(`blast: using webapp-env, which ${join(proj, '.blast-env')} names\n`);
      expect(venvOf(named)).to.equal(join(box.blastHome, 'envs', 'webapp-env'));
      expect(existsSync(join(proj, 'docs', 'api', '.venv'))).to.equal(false);

      // A nested project with its own .venv is nearer than the outer project's file.
      started(['start', '--path', join(inner, '.venv')]);
      const nested = started(['start'], join(inner, 'src'));
      expect(nested.stderr).to.include(`blast: using the project's environment ${join(inner, '.venv')}\n`);
      expect(venvOf(nested)).to.equal(join(inner, '.venv'));
      expect(existsSync(join(inner, 'src', '.venv'))).to.equal(false);

      // Above HOME is not looked at: a .venv there is not this directory's project.
      execFileSync(python, ['-m', 'venv', '--without-pip', join(box.root, '.venv')], {
        env: pipEnv(),
        stdio: 'pipe',
      });
      const lone = join(box.home, 'scratch', 'deep');
      mkdirSync(lone, { recursive: true });
      const own = started(['start'], lone);
      expect(own.stderr).to.not.include('using');
      expect(venvOf(own)).to.equal(join(lone, '.venv'));
    });

    it('start NAME --here writes .blast-env; another name only with --force', () => {
      const proj = join(box.home, 'tool');
      mkdirSync(join(proj, 'lib'), { recursive: true });
      const here = started(['start', 'tool-env', '--here'], proj);
      expect(readFileSync(join(proj, '.blast-env'), 'utf8')).to.equal('tool-env\n');
      expect(here.stderr).to.include(`${join(proj, '.blast-env')} names tool-env`);
      expect(venvOf(started(['start'], join(proj, 'lib')))).to.equal(join(box.blastHome, 'envs', 'tool-env'));

      const other = throughFunction(box, ['start', 'other-env', '--here'], { cwd: proj });
      expect(other.status).to.equal(2);
      expect(other.stderr).to.include('already names "tool-env"; nothing was changed');
      expect(other.stderr).to.include('blast start other-env --here --force');
      expect(existsSync(join(box.blastHome, 'envs', 'other-env'))).to.equal(false);
      expect(readFileSync(join(proj, '.blast-env'), 'utf8')).to.equal('tool-env\n');

      started(['start', 'other-env', '--here', '--force'], proj);
      expect(readFileSync(join(proj, '.blast-env'), 'utf8')).to.equal('other-env\n');
      const noName = throughFunction(box, ['start', '--here'], { cwd: proj });
      expect(noName.status).to.equal(2);
      expect(noName.stderr).to.include('--here writes the name of a named environment');
    });
  });
});
