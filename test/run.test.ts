/**
 * `blast run [NAME] -- CMD`, through the real CLI with a real environment: the command gets the
 * variables an activation gives (and no more), runs on the caller's stdio, and its exit status —
 * also death by a signal — is Blast's. Which environment: NAME, --path, the active one, the
 * project's .venv; a missing one is a clear error and nothing is created.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeState } from '../src/lib/shell/activation.js';
import { BIN, blast, REPO, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { supportedByVersion } from './python/world.js';

const DUMP = 'import json, os, sys; print(json.dumps({"prefix": sys.prefix, "env": dict(os.environ)}))';

interface Dumped {
  prefix: string;
  env: Record<string, string>;
}

describe('blast run', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let project: string;
  let demo: string;
  let state: string;

  const dump = (args: string[], env: Record<string, string> = {}, cwd = project): Dumped => {
    const run = blast(box, ['run', ...args, '--', 'python', '-c', DUMP], { env, cwd });
    expect(run.status, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as Dumped;
  };

  before(() => {
    box = sandbox();
    project = join(box.root, 'project');
    mkdirSync(project);
    const made = throughFunction(box, ['start', 'demo', '--env', 'GREETING=hello there']);
    expect(made.status, made.stderr).to.equal(0);
    state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(made.script)![1]!;
    demo = decodeState(state).env.path;
  });
  after(() => box?.cleanup());

  it("gives the command the activation's variables: VIRTUAL_ENV, bin first on PATH, PYTHONHOME unset, stored variables", () => {
    const got = dump(['demo'], { PYTHONHOME: '/somewhere/else', PATH: `/usr/local/bin:/usr/bin:/bin` });
    expect(got.prefix).to.equal(demo);
    expect(got.env.VIRTUAL_ENV).to.equal(demo);
    const path = got.env.PATH!.split(':');
    // The pip shim, then the environment's bin, then the caller's PATH unchanged.
    expect(path.slice(1)).to.deep.equal([join(demo, 'bin'), '/usr/local/bin', '/usr/bin', '/bin']);
    expect(path[0]).to.match(/\/shim\/\d+\.\d+-[0-9a-f]{12}$/);
    expect(got.env).not.to.have.property('PYTHONHOME');
    expect(got.env.GREETING).to.equal('hello there');
    expect(got.env.BLAST_ENV).to.equal('demo');
  });

  it('passes the exit status through, and 128+N when signal N ended the command', () => {
    expect(blast(box, ['run', 'demo', '--', 'python', '-c', 'raise SystemExit(7)']).status).to.equal(7);
    expect(blast(box, ['run', 'demo', '--', 'sh', '-c', 'kill -TERM $$']).status).to.equal(143);
    expect(blast(box, ['run', 'demo', '--', 'sh', '-c', 'kill -KILL $$']).status).to.equal(137);
    const ok = blast(box, ['run', 'demo', '--', 'sh', '-c', 'echo out; echo err >&2'], { input: '' });
    expect(ok).to.deep.include({ status: 0, stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes stdin through and leaves arguments after -- alone (flags included)', () => {
    const run = blast(
      box,
      [
        'run',
        'demo',
        '--',
        'python',
        '-c',
        'import sys; print(sys.argv[1:], sys.stdin.read())',
        '--path',
        '-x',
      ],
      {
        input: 'from stdin',
      },
    );
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.equal("['--path', '-x'] from stdin\n");
  });

  it('without NAME: the active environment, else the project .venv, else a clear error', () => {
    // Another environment active in the calling shell: its activation is replaced, not stacked.
    const other = throughFunction(box, ['start', 'other']);
    expect(other.status, other.stderr).to.equal(0);
    const otherState = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(other.script)![1]!;
    const otherPath = decodeState(otherState).env.path;
    const activeEnv = {
      BLAST_SHELL_STATE: otherState,
      VIRTUAL_ENV: otherPath,
      PATH: `${join(otherPath, 'bin')}:/usr/bin:/bin`,
    };
    const inOther = dump([], activeEnv);
    expect(inOther.prefix).to.equal(otherPath);
    expect(dump(['demo'], activeEnv).env.PATH!.split(':').slice(1)).to.deep.equal([
      join(demo, 'bin'),
      '/usr/bin',
      '/bin',
    ]);

    const missing = blast(box, ['run', '--', 'python', '-c', '1'], { cwd: project });
    expect(missing.status).to.equal(3);
    expect(missing.stderr).to.include(`No environment is active and there is no ${join(project, '.venv')}.`);
    expect(missing.stderr).to.include('blast start');

    const local = throughFunction(box, ['start'], { cwd: project });
    expect(local.status, local.stderr).to.equal(0);
    expect(dump([]).prefix).to.equal(join(project, '.venv'));
    expect(dump(['--path', '.venv']).prefix).to.equal(join(project, '.venv'));
  });

  it('a missing environment is an error with a hint, and nothing is created', () => {
    const run = blast(box, ['run', 'nope', '--', 'python', '-c', '1']);
    expect(run.status).to.equal(3);
    expect(run.stderr).to.include('There is no environment nope');
    expect(run.stderr).to.include('blast start nope');
    expect(existsSync(join(box.blastHome, 'envs', 'nope'))).to.equal(false);
    const notBlast = join(box.root, 'plain');
    mkdirSync(notBlast);
    writeFileSync(join(notBlast, 'pyvenv.cfg'), 'home = /usr/bin\n');
    const foreign = blast(box, ['run', '--path', notBlast, '--', 'true']);
    expect(foreign.status).to.equal(2);
    expect(foreign.stderr).to.include('Blast did not create');
  });

  it('without a command, or with one that is not there: usage error and 127', () => {
    const none = blast(box, ['run', 'demo']);
    expect(none.status).to.equal(2);
    expect(none.stderr).to.include('Give the command to run after --.');
    const empty = blast(box, ['run', 'demo', '--']);
    expect(empty.status).to.equal(2);
    const absent = blast(box, ['run', 'demo', '--', 'no-such-command-here']);
    expect(absent.status).to.equal(127);
    expect(absent.stderr).to.include("no-such-command-here: command not found in the environment's PATH.");
  });

  it('two Blast installations sharing a cache each keep their own pip shim, running themselves', () => {
    // A second installation: its own package root and bin/run.js, the same built code.
    const other = join(box.root, 'other blast');
    mkdirSync(join(other, 'bin'), { recursive: true });
    for (const file of ['package.json', 'oclif.manifest.json'])
      copyFileSync(join(REPO, file), join(other, file));
    copyFileSync(BIN, join(other, 'bin', 'run.js'));
    for (const dir of ['dist', 'node_modules', 'plugins']) symlinkSync(join(REPO, dir), join(other, dir));
    const shimOf = (bin: string) => {
      const run = spawnSync(process.execPath, [bin, 'run', 'demo', '--', 'sh', '-c', 'command -v pip'], {
        env: box.env,
        cwd: box.home,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).to.equal(0);
      return run.stdout.trim();
    };
    const ours = shimOf(BIN);
    const theirs = shimOf(join(other, 'bin', 'run.js'));
    expect(dirname(ours)).not.to.equal(dirname(theirs));
    expect(readFileSync(ours, 'utf8')).to.include(`'${BIN}' pip --`);
    expect(readFileSync(theirs, 'utf8')).to.include(`'${join(other, 'bin', 'run.js')}' pip --`);
  });

  it('an environment whose Python is gone: start and run refuse, with the way to recreate it', async () => {
    const [interp] = await supportedByVersion();
    const base = join(box.root, 'python gone');
    mkdirSync(base);
    symlinkSync(interp!.realpath, join(base, 'python3'));
    const made = throughFunction(box, ['start', 'fragile', '--python', join(base, 'python3')]);
    expect(made.status, made.stderr).to.equal(0);
    const fragile = join(box.blastHome, 'envs', 'fragile');
    expect(dump(['fragile']).prefix).to.equal(fragile);
    const refused = (why: string) => {
      for (const args of [
        ['start', 'fragile'],
        ['run', 'fragile', '--', 'python', '-c', DUMP],
      ]) {
        const run = throughFunction(box, args, { cwd: project });
        expect(run.status, args.join(' ')).to.equal(1);
        expect(run.stdout, 'no other interpreter ran').to.equal('');
        expect(run.script, 'nothing activated').to.equal('');
        expect(run.stderr).to.include(`blast: fragile cannot run Python: ${why}`);
        expect(run.stderr).to.match(
          /Recreate it .*: blast clean fragile --yes, then blast start fragile --python \d+\.\d+\./,
        );
      }
    };
    rmSync(base, { recursive: true });
    refused(`its ${join(fragile, 'bin', 'python')} is gone with the interpreter it was made from`);
    // The interpreter back, but pyvenv.cfg names a home that is not there.
    mkdirSync(base);
    symlinkSync(interp!.realpath, join(base, 'python3'));
    const cfg = join(fragile, 'pyvenv.cfg');
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace(/^home = .*$/m, `home = ${join(box.root, 'nowhere')}`),
    );
    refused(
      `the base interpreter's directory its pyvenv.cfg names (home = ${join(box.root, 'nowhere')}) is gone`,
    );
  });

  it('--help shows examples', () => {
    const help = blast(box, ['run', '--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.include('run demo -- python');
    expect(help.stdout).to.include('128+N');
  });
});
