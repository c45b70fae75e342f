/** The commands as a user meets them: bad input, list/check/clean, and what stays untouched. */
import { expect } from 'chai';
import { runCommand } from '@oclif/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, blast, createAndLeave, REPO, sandbox, throughFunction, type Sandbox } from './support/cli.js';

describe('blast CLI', function () {
  this.timeout(120_000);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  const envsOnDisk = () =>
    existsSync(join(box.blastHome, 'envs')) ? readdirSync(join(box.blastHome, 'envs')) : [];
  const listed = () => {
    const run = blast(box, ['list', '--json', '--no-size']);
    expect(run.status, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as Array<{
      name: string;
      path: string;
      active: boolean;
      python: { version: string };
    }>;
  };
  function expectNothingCreated(): void {
    expect(envsOnDisk()).to.deep.equal([]);
    expect(listed()).to.deep.equal([]);
  }

  describe('bad input: clear error, exit ≠ 0, nothing created', () => {
    const badNames: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a/b', /"\/"/],
      ['..', /"\.\."/],
      ['evil\nname', /control character/],
      ['x'.repeat(101), /101 characters long, more than 100/],
      // 100 characters but 300 bytes: past what a file name holds (it failed with ENAMETOOLONG).
      ['環'.repeat(100), /300 bytes in UTF-8/],
    ];
    for (const [name, why] of badNames) {
      it(`refuses the name ${JSON.stringify(name.length > 20 ? name.slice(0, 20) + '…' : name)}`, () => {
        const run = throughFunction(box, ['start', name]);
        expect(run.status).to.equal(2);
        expect(run.stderr).to.match(why);
        expect(run.stderr).not.to.match(/\n\s+at /);
        expect(run.script).to.equal('');
        expectNothingCreated();
      });
    }

    for (const bad of ['NOEQUALS', '1BAD=x', 'PATH=/tmp']) {
      it(`refuses --env ${bad}`, () => {
        const run = throughFunction(box, ['start', 'demo', '--env', bad]);
        expect(run.status).to.equal(2);
        expect(run.stderr).to.match(/--env/);
        expectNothingCreated();
      });
    }

    it('refuses a --python that matches nothing, listing what it found', () => {
      const run = throughFunction(box, ['start', 'demo', '--python', '9.99']);
      expect(run.status).to.not.equal(0);
      expect(run.stderr).to.match(/9\.99/);
      expect(run.stderr).to.match(/python/i);
      expect(run.stderr).to.match(/\d+\.\d+\.\d+/); // the versions it did find
      expectNothingCreated();
    });

    for (const spec of ['>=4', '/nonexistent']) {
      it(`refuses --python ${spec}: clear error, exit 3, nothing created, the registry unchanged`, () => {
        expect(throughFunction(box, ['start', 'keep']).status).to.equal(0);
        const registry = join(box.blastHome, 'state', 'registry.db');
        const before = readFileSync(registry, 'utf8');
        const run = throughFunction(box, ['start', 'demo', '--python', spec]);
        expect(run.status).to.equal(3);
        expect(run.stderr).to.include(
          spec === '>=4' ? 'No Python matches Python >=4.' : '/nonexistent does not exist.',
        );
        expect(run.stderr).to.match(/Pass --python with one of the versions or paths above/);
        expect(run.stderr).not.to.match(/\n\s+at /);
        expect(run.script).to.equal('');
        expect(readFileSync(registry, 'utf8')).to.equal(before);
        expect(envsOnDisk()).to.deep.equal(['keep']);
        expect(listed().map((e) => e.name)).to.deep.equal(['keep']);
      });
    }

    it('refuses a --python spec that is not a version, a specifier, a name or a path', () => {
      const run = throughFunction(box, ['start', 'demo', '--python', '>=>3']);
      expect(run.status).to.not.equal(0);
      expectNothingCreated();
    });

    it('says so when there is no Python at all', () => {
      const empty = join(box.root, 'empty-bin');
      mkdirSync(empty);
      const run = throughFunction(box, ['start', 'demo'], {
        env: { PATH: empty, PYENV_ROOT: join(box.root, 'no-pyenv') },
      });
      expect(run.status).to.not.equal(0);
      expect(run.stderr).to.match(/python/i);
      expectNothingCreated();
    });

    it('kill with nothing active, kill without the shell function, and a damaged state', () => {
      const none = throughFunction(box, ['kill']);
      expect(none.status).to.equal(3);
      expect(none.stderr).to.match(/No Blast environment is active/);
      const noFunction = blast(box, ['kill'], { env: { BLAST_SHELL_STATE: 'x' } });
      expect(noFunction.status).to.equal(2);
      expect(noFunction.stderr).to.match(/shell function/);
      const damaged = throughFunction(box, ['kill'], { env: { BLAST_SHELL_STATE: 'not$valid' } });
      expect(damaged.status).to.equal(1);
      expect(damaged.stderr).to.match(/not readable/);
      expect(damaged.script).to.equal('');
    });

    it('in a deleted current directory: a clear message, not ENOENT uv_cwd', () => {
      const gone = join(box.root, 'gone');
      for (const args of [
        ['start'],
        ['start', 'demo'],
        ['run', 'demo', '--', 'true'],
        ['save'],
        ['history'],
      ]) {
        mkdirSync(gone);
        // The shell is in the directory when it goes away, as a user's is after `rm -r` elsewhere.
        const run = spawnSync(
          'sh',
          ['-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', gone, process.execPath, BIN, ...args],
          {
            env: {
              ...box.env,
              BLAST_SHELL: 'bash',
              BLAST_SHELL_SCRIPT: join(box.root, 'script'),
              BLAST_SHELL_PID: String(process.pid),
            },
            encoding: 'utf8',
          },
        );
        expect(run.status, args.join(' ')).to.equal(1);
        expect(run.stderr, args.join(' ')).to.equal(
          'blast: The current directory no longer exists (it was deleted or moved away).\n' +
            '  `cd` to a directory that exists, then run the command again.\n',
        );
      }
      expectNothingCreated();
    });

    it('init names the shells it knows when asked for one it does not', () => {
      const run = blast(box, ['init', 'nosuchshell']);
      expect(run.status).to.equal(2);
      expect(run.stderr).to.match(/Known shells: .*bash.*zsh/);
    });
  });

  describe('environments', () => {
    it('creates a PEP 405 venv with pip, registers it, and starts it again without recreating', () => {
      const first = throughFunction(box, ['start', 'demo']);
      expect(first.status, first.stderr).to.equal(0);
      const path = join(box.blastHome, 'envs', 'demo');
      expect(existsSync(join(path, 'pyvenv.cfg'))).to.equal(true);
      expect(existsSync(join(path, 'bin', 'pip'))).to.equal(true);
      expect(first.stderr).to.match(/created demo/);
      const second = throughFunction(box, ['start', 'demo']);
      expect(second.status, second.stderr).to.equal(0);
      expect(second.stderr).not.to.match(/created/);
      const [entry] = listed();
      expect(entry).to.include({ name: 'demo', path });
    });

    it('takes 51 emoji as 51 characters (a name of 102 UTF-16 units)', () => {
      const name = '🐍'.repeat(51);
      const run = throughFunction(box, ['start', name]);
      expect(run.status, run.stderr).to.equal(0);
      expect(envsOnDisk()).to.deep.equal([name]);
      expect(listed().map((e) => e.name)).to.deep.equal([name]);
    });

    it('--python for an existing environment must agree with its Python', () => {
      expect(throughFunction(box, ['start', 'demo']).status).to.equal(0);
      const [entry] = listed();
      const [major, minor] = entry!.python.version.split('.');
      const same = throughFunction(box, ['start', 'demo', '--python', `${major}.${minor}`]);
      expect(same.status, same.stderr).to.equal(0);
      expect(same.stderr).to.equal('');
      const other = throughFunction(box, ['start', 'demo', '--python', `>${major}.${minor}.999`]);
      expect(other.status).to.equal(2);
      expect(other.stderr).to.include(`demo uses Python ${entry!.python.version}, which is not --python`);
      expect(other.script).to.equal('');
    });

    it('plain `start` uses the project .venv, named after the project; --path makes a local one', () => {
      const project = join(box.root, 'my project');
      mkdirSync(project);
      const run = throughFunction(box, ['start'], { cwd: project });
      expect(run.status, run.stderr).to.equal(0);
      expect(existsSync(join(project, '.venv', 'pyvenv.cfg'))).to.equal(true);
      expect(run.script).to.include("VIRTUAL_ENV_PROMPT='my project'");
      const local = throughFunction(box, ['start', '--path', 'env2'], { cwd: project });
      expect(local.status, local.stderr).to.equal(0);
      expect(existsSync(join(project, 'env2', 'pyvenv.cfg'))).to.equal(true);
      expect(
        listed()
          .map((e) => e.name)
          .sort(),
      ).to.deep.equal(['env2', 'my project']);
    });

    it('stores --env variables with the environment and exports them on every start', () => {
      expect(throughFunction(box, ['start', 'demo', '--env', 'GREETING=hello world']).status).to.equal(0);
      const again = throughFunction(box, ['start', 'demo']);
      expect(again.script).to.include("GREETING='hello world'");
      const dropped = throughFunction(box, ['start', 'demo', '--unset-env', 'GREETING']);
      expect(dropped.status, dropped.stderr).to.equal(0);
      expect(dropped.script).not.to.include('GREETING');
      expect(throughFunction(box, ['start', 'demo']).script).not.to.include('GREETING');
      expect(throughFunction(box, ['start', 'demo', '--unset-env', 'PATH']).status).to.equal(2);
    });

    it('list marks the active environment', () => {
      const started = throughFunction(box, ['start', 'demo']);
      const state = /BLAST_SHELL_STATE='([^']*)'/.exec(started.script)![1]!;
      const run = blast(box, ['list', '--json', '--no-size'], { env: { BLAST_SHELL_STATE: state } });
      expect((JSON.parse(run.stdout) as Array<{ active: boolean }>)[0]!.active).to.equal(true);
      const text = blast(box, ['list'], { env: { BLAST_SHELL_STATE: state } });
      expect(text.stdout).to.match(/^\*\s+demo\s/m);
    });

    it('check passes on a healthy environment and fails (exit 5) on a broken one; --fix forgets a vanished one', () => {
      expect(throughFunction(box, ['start', 'good']).status).to.equal(0);
      expect(throughFunction(box, ['start', 'broken']).status).to.equal(0);
      expect(throughFunction(box, ['start', 'gone']).status).to.equal(0);
      const healthy = blast(box, ['check', '--json']);
      expect(healthy.status, healthy.stdout).to.equal(0);
      unlinkSync(join(box.blastHome, 'envs', 'broken', 'bin', 'python'));
      rmSync(join(box.blastHome, 'envs', 'gone'), { recursive: true });
      const sick = blast(box, ['check', '--json']);
      expect(sick.status).to.equal(5);
      const checks = (
        JSON.parse(sick.stdout) as { checks: Array<{ name: string; env?: string; status: string }> }
      ).checks;
      expect(checks.find((c) => c.env === 'broken' && c.name === 'python runs')?.status).to.equal('fail');
      expect(checks.find((c) => c.env === 'gone')?.status).to.equal('fail');
      expect(checks.find((c) => c.env === 'good' && c.name === 'python runs')?.status).to.equal('ok');
      blast(box, ['check', '--fix']);
      expect(listed().map((e) => e.name)).to.deep.equal(['broken', 'good']);
    });

    it('check --fix rebuilds a damaged registry from the environments on disk', () => {
      expect(throughFunction(box, ['start', 'demo']).status).to.equal(0);
      writeFileSync(join(box.blastHome, 'state', 'registry.db'), 'garbage\n{not json\n');
      const list = blast(box, ['list']);
      expect(list.status).to.equal(1);
      expect(list.stderr).to.match(/damaged/);
      const fix = blast(box, ['check', '--fix']);
      expect(fix.stdout).to.match(/fixed\s+registry readable/);
      expect(listed().map((e) => e.name)).to.deep.equal(['demo']);
      expect(
        readdirSync(join(box.blastHome, 'state')).some((f) => f.startsWith('registry.db.damaged-')),
      ).to.equal(true);
    });

    it('clean forgets environments whose folder vanished; --dry-run changes nothing', () => {
      expect(throughFunction(box, ['start', 'demo']).status).to.equal(0);
      rmSync(join(box.blastHome, 'envs', 'demo'), { recursive: true });
      const dry = blast(box, ['clean', '--dry-run']);
      expect(dry.stdout).to.match(/would remove registry entry demo/);
      expect(listed()).to.have.length(1);
      const wet = blast(box, ['clean']);
      expect(wet.status, wet.stderr).to.equal(0);
      expect(listed()).to.deep.equal([]);
    });

    it('clean NAME asks for --yes off a terminal, then deletes the environment', () => {
      createAndLeave(box, 'demo');
      const refused = blast(box, ['clean', 'demo']);
      expect(refused.status).to.equal(2);
      expect(refused.stderr).to.match(/--yes/);
      expect(envsOnDisk()).to.deep.equal(['demo']);
      const done = blast(box, ['clean', 'demo', '--yes']);
      expect(done.status, done.stderr).to.equal(0);
      expectNothingCreated();
      expect(blast(box, ['clean', 'demo', '--yes']).status).to.equal(3);
    });
  });

  it("--version answers in oclif's own format without loading oclif", async () => {
    const { Config } = await import('@oclif/core');
    const config = await Config.load(REPO);
    const run = blast(box, ['--version']);
    expect(run.status).to.equal(0);
    expect(run.stdout).to.equal(`${config.userAgent}\n`);
  });

  it('clean removes what an interrupted creation left (its process is gone) and keeps a live one', () => {
    const envs = join(box.blastHome, 'envs');
    mkdirSync(envs, { recursive: true });
    const dead = join(envs, '.blast-tmp-999999999-x-y');
    const live = join(envs, `.blast-tmp-${process.pid}-x-y`);
    mkdirSync(join(dead, 'bin'), { recursive: true });
    mkdirSync(live);
    const dry = blast(box, ['clean', '--dry-run']);
    expect(dry.stdout).to.include(`would remove ${dead}`);
    expect(dry.stdout).not.to.include(live);
    expect(existsSync(dead)).to.equal(true);
    const wet = blast(box, ['clean', '--json']);
    expect(wet.status, wet.stderr).to.equal(0);
    expect(existsSync(dead)).to.equal(false);
    expect(existsSync(live)).to.equal(true);
  });

  describe('in-process (@oclif/test)', () => {
    it('init prints the bash function and --help shows examples', async () => {
      const { stdout } = await runCommand(['init', 'bash'], { root: REPO });
      expect(stdout).to.match(/function blast \{/);
      const help = await runCommand(['start', '--help'], { root: REPO });
      expect(help.stdout).to.include('EXAMPLES');
      expect(help.stdout).to.include('--python');
    });
  });
});
