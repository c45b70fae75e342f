/**
 * pip install through Blast at pip's own cost (issue 14): pip resolves once (the review happens
 * while pip waits), the consistency check after an install gives `pip check`'s verdicts without
 * running it, `-q` keeps Blast quiet, and what another environment installed is linked from the
 * store. Real CLI, real pip, wheels built here (offline).
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { supportedByVersion } from '../../../test/python/world.js';
import { blast, sandbox, throughFunction, type Run, type Sandbox } from '../../../test/support/cli.js';
import { buildWheel, isolatedPipEnv } from '../../../test/support/wheels.js';
import { consistencyCheck } from '../src/resolver/consistency.js';

describe('resolver-pip: one resolution, in-process check, quiet, served from the store', function () {
  this.timeout(240_000);
  let box: Sandbox;
  let wheels: string;
  let python: string;
  const envs: Record<string, string> = {};

  const baseEnv = (): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  const index = () => ['--no-index', '--find-links', wheels];
  const pipIn = (name: string, args: string[], extra: Record<string, string> = {}): Run =>
    blast(box, ['pip', '--', ...args], { env: { ...baseEnv(), VIRTUAL_ENV: envs[name]!, ...extra } });
  const plainPip = (name: string, ...args: string[]) =>
    spawnSync(join(envs[name]!, 'bin', 'python'), ['-m', 'pip', ...args], {
      env: baseEnv(),
      encoding: 'utf8',
    });
  const start = (name: string) => {
    const run = throughFunction(box, ['start', name, '--python', python], { env: baseEnv() });
    expect(run.status, run.stderr).to.equal(0);
    envs[name] = join(box.blastHome, 'envs', name);
  };

  before(async function () {
    const py = (await supportedByVersion()).at(-1);
    if (!py) throw new Error('no supported Python on this machine');
    python = py.executable;
    box = sandbox();
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const meta = (name: string, version: string, ...requires: string[]) => ({
      files: {
        [`${name}-${version}.dist-info/METADATA`]:
          `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n` +
          requires.map((r) => `Requires-Dist: ${r}\n`).join(''),
      },
    });
    buildWheel(python, wheels, 'app', '1.0', meta('app', '1.0', 'lib>=2'));
    buildWheel(python, wheels, 'lib', '1.0');
    buildWheel(python, wheels, 'lib', '2.0');
    buildWheel(python, wheels, 'lib', '3.0rc1');
    buildWheel(python, wheels, 'tool', '1.0', meta('tool', '1.0', 'nothere; python_version < "3"'));
    buildWheel(python, wheels, 'plug', '1.0', meta('plug', '1.0', 'Lib_Extra>=9; extra == "x"', 'lib (<3)'));
    buildWheel(python, wheels, 'served', '1.0', { script: 'served-cli' });
    buildWheel(python, wheels, 'unseen', '1.0'); // never installed anywhere: pip's to install
    start('demo');
    start('other');
  });
  after(() => box?.cleanup());

  it('pip resolves once: one pip run, its review shown, the install as asked', () => {
    const log = join(box.root, 'pip.log');
    const run = pipIn('demo', ['install', ...index(), 'app'], { PIP_LOG: log });
    expect(run.status, run.stderr).to.equal(0);
    // Every pip run appends its whole log to PIP_LOG; a dry run first would add a second one.
    const text = readFileSync(log, 'utf8');
    expect(text.match(/Looking in links: /g) ?? [], text).to.have.length(1);
    // …and the consistency check after it is in-process: no `pip check` run either.
    expect(text).not.to.include('No broken requirements found');
    expect(run.stderr).to.include("blast: impact of this pip install (pip's resolver, dry run):");
    expect(run.stderr).to.match(/^ {2}add +app +1\.0$/m);
    expect(run.stdout).to.match(/Successfully installed app-1\.0 lib-2\.0/);
    rmSync(log);
  });

  it('-q: nothing but pip speaks, also when the change is one to flag (a major upgrade)', () => {
    const run = pipIn('demo', ['install', '-q', ...index(), 'lib==3.0rc1']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.equal('');
    expect(run.stdout).to.equal('');
    expect(plainPip('demo', 'show', 'lib').stdout).to.match(/^Version: 3\.0rc1$/m);
  });

  it("the in-process check gives pip check's verdicts on sound and broken environments", async () => {
    // Each state, made with plain pip; then both checks on it.
    const states: Array<{ what: string; install: string[]; uninstall?: string[] }> = [
      { what: 'a pre-release satisfies >=2 (pip check allows them)', install: [] },
      { what: 'too old a version', install: ['lib==1.0'] },
      { what: 'sound', install: ['lib==2.0'] },
      { what: 'missing', install: [], uninstall: ['lib'] },
      { what: 'a marker that excludes it, an extra not asked for', install: ['tool', 'plug', 'lib==2.0'] },
      { what: 'broken by a legacy specifier in parentheses', install: ['lib==3.0rc1'] },
    ];
    for (const state of states) {
      if (state.uninstall) expect(plainPip('demo', 'uninstall', '-y', ...state.uninstall).status).to.equal(0);
      if (state.install.length > 0)
        expect(plainPip('demo', 'install', '--no-deps', ...index(), ...state.install).status).to.equal(0);
      const pip = plainPip('demo', 'check');
      const ours = await consistencyCheck({ envPath: envs.demo!, env: baseEnv() });
      expect(ours.by, state.what).to.equal('blast');
      expect(ours.ok, `${state.what}: ${pip.stdout}`).to.equal(pip.status === 0);
      const pipLines = pip.status === 0 ? [] : pip.stdout.trim().split('\n');
      // The same broken requirements: who requires what (pip's lines, names as pip writes them).
      const key = (line: string) =>
        line.split(/ requires | has requirement /).map((p) => p.split(/[\s,<>=!~;(]/)[0]);
      expect(ours.problems.map(key).sort(), state.what).to.deep.equal(pipLines.map(key).sort());
    }
  });

  it('a distribution another environment installed is linked from the store; pip installs the rest', () => {
    const first = pipIn('demo', ['install', ...index(), 'served']);
    expect(first.status, first.stderr).to.equal(0);
    const log = join(box.root, 'served.log');
    const run = pipIn('other', ['install', ...index(), 'served', 'unseen'], { PIP_LOG: log });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr, run.stderr).to.include("Linked from Blast's store: served-1.0");
    expect(run.stdout).to.match(/Successfully installed unseen-1\.0/);
    // pip did not unpack it (its log names only the wheel it installed).
    expect(readFileSync(log, 'utf8')).not.to.match(/Installing collected packages: .*served/);
    const script = join(envs.other!, 'bin', 'served-cli');
    // This environment's python (the sandbox's path has a space: pip's `/bin/sh` exec form).
    expect(readFileSync(script, 'utf8')).to.include(join(envs.other!, 'bin', 'python'));
    expect(readFileSync(script, 'utf8')).not.to.include(join(envs.demo!, 'bin', 'python'));
    expect(execFileSync(script, { encoding: 'utf8' })).to.include('served 1.0 works');
    expect(plainPip('other', 'check').status).to.equal(0);
    // A normal install for pip: uninstalled cleanly.
    expect(plainPip('other', 'uninstall', '-y', 'served').status).to.equal(0);
    expect(plainPip('other', 'show', 'served').status).to.not.equal(0);
  });
});
