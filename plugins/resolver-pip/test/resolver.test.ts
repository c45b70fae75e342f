/**
 * The resolver through the real CLI, real pip and wheels built here (offline): the impact table
 * before an install (pip's own resolver in a dry run), the question on a real terminal (`script`
 * gives pip a pty), the downgrades policy, constraints honoured by Blast's pip and by
 * `python -m pip` in an activated shell, pip check after the change (warning, or rollback under
 * consistency=strict), `blast impact --json`, and pip's cache in check and clean --cache.
 *
 * One environment for the whole file; each test starts from the state the previous one left.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { supportedByVersion } from '../../../test/python/world.js';
import { blast, sandbox, throughFunction, type Run, type Sandbox } from '../../../test/support/cli.js';
import { buildWheel, isolatedPipEnv } from '../../../test/support/wheels.js';
import type { ImpactJson } from '../src/commands/impact.js';

const sq = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

describe('resolver-pip (real CLI, real pip, real terminal)', function () {
  this.timeout(180_000);
  let box: Sandbox;
  let wheels: string;
  let envPath: string;
  let startScript: string;

  const baseEnv = (): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  /** The env active as far as `blast pip` is concerned (what the pip shim runs). */
  const activeEnv = () => ({ ...baseEnv(), VIRTUAL_ENV: envPath });
  const index = () => ['--no-index', '--find-links', wheels];
  const pip = (...args: string[]): Run => blast(box, ['pip', '--', ...args], { env: activeEnv() });
  const install = (...what: string[]) => pip('install', ...index(), ...what);
  const config = (...args: string[]) => {
    const run = blast(box, ['config', '--env', 'demo', ...args], { env: baseEnv() });
    expect(run.status, run.stderr).to.equal(0);
  };
  /** `name==version` of everything but pip, sorted. */
  const freeze = () =>
    execFileSync(join(envPath, 'bin', 'python'), ['-m', 'pip', 'freeze', '--exclude', 'pip'], {
      env: baseEnv(),
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .sort();
  /**
   * `pip ARGS` typed in an activated bash (the start script sourced: `pip` is Blast's shim) on a
   * pseudo-terminal whose keyboard types `input`.
   */
  const onTerminal = (input: string, ...rest: Array<string | { pipe: string }>) => {
    const args = rest.filter((a): a is string => typeof a === 'string');
    const pipe = rest.find((a): a is { pipe: string } => typeof a !== 'string')?.pipe ?? '';
    const command = `set -o pipefail; source ${sq(startScript)} && pip ${args.map(sq).join(' ')} ${pipe}`;
    const run = spawnSync('script', ['-qec', `bash --norc --noprofile -c ${sq(command)}`, '/dev/null'], {
      env: baseEnv(),
      input,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: run.status ?? 128, output: run.stdout.replaceAll('\r\n', '\n') };
  };

  before(async function () {
    const py = (await supportedByVersion()).at(-1);
    if (!py) throw new Error('no supported Python on this machine');
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
    buildWheel(py.executable, wheels, 'alpha', '1.0');
    // Upgrading alpha to 2.0 forces beta down.
    buildWheel(py.executable, wheels, 'alpha', '2.0', meta('alpha', '2.0', 'beta<2'));
    buildWheel(py.executable, wheels, 'beta', '1.0');
    buildWheel(py.executable, wheels, 'beta', '2.0');
    // Installed beside alpha 1.0; pip's resolver does not look at it when alpha is upgraded.
    buildWheel(
      py.executable,
      wheels,
      'gamma',
      '1.0',
      meta('gamma', '1.0', 'alpha<2', 'nothere; sys_platform == "win32"'),
    );
    // Requires something that exists nowhere: installed with --no-deps, pip check fails.
    buildWheel(py.executable, wheels, 'delta', '1.0', meta('delta', '1.0', 'epsilon>=1'));
    const run = throughFunction(box, ['start', 'demo', '--python', py.executable], { env: baseEnv() });
    expect(run.status, run.stderr).to.equal(0);
    envPath = join(box.blastHome, 'envs', 'demo');
    startScript = join(box.root, 'start.sh');
    writeFileSync(startScript, run.script);
  });
  after(() => box?.cleanup());

  it('an install shows its impact table and goes on without a terminal', () => {
    const run = install('alpha==1.0', 'beta==2.0', 'gamma');
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.include("blast: impact of this pip install (pip's resolver, dry run):");
    expect(run.stderr).to.match(/^ {2}add +alpha +1\.0$/m);
    expect(run.stderr).to.match(/^ {2}add +beta +2\.0$/m);
    expect(run.stderr).to.match(/^ {2}add +gamma +1\.0$/m);
    expect(run.stderr).not.to.include('pip check'); // consistent: no warning
    expect(freeze()).to.deep.equal(['alpha==1.0', 'beta==2.0', 'gamma==1.0']);
  });

  it('blast impact --json: upgrading alpha forces beta down and breaks gamma; nothing changes', () => {
    const run = blast(box, ['impact', '--env', 'demo', '--json', '--', ...index(), 'alpha==2.0'], {
      env: baseEnv(),
    });
    expect(run.status, run.stderr).to.equal(0);
    const json = JSON.parse(run.stdout) as ImpactJson;
    expect(json).to.deep.equal({
      env: { name: 'demo', path: envPath },
      command: 'install',
      args: [...index(), 'alpha==2.0'],
      constraints: [],
      impact: {
        added: [],
        upgraded: [{ name: 'alpha', from: '1.0', to: '2.0', major: true }],
        downgraded: [{ name: 'beta', from: '2.0', to: '1.0', major: true }],
        removed: [],
        reinstalled: [],
        conflicts: [{ dist: 'gamma 1.0', requirement: 'alpha<2', found: '2.0' }],
        alreadyBroken: [],
        unevaluated: [],
      },
      risks: ['1 downgrade(s)', '2 major version jump(s)', '1 broken requirement(s)'],
    });
    expect(freeze()).to.deep.equal(['alpha==1.0', 'beta==2.0', 'gamma==1.0']);

    const text = blast(box, ['impact', '--env', 'demo', '--', ...index(), 'alpha==2.0'], { env: baseEnv() });
    expect(text.status, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/^ {2}downgrade +beta +2\.0 +1\.0 +MAJOR, DOWNGRADE$/m);
    expect(text.stdout).to.include('gamma 1.0 requires alpha<2, would get 2.0');
  });

  it('on a terminal, pip install in the activated shell asks; answering no leaves the environment as it was', () => {
    const run = onTerminal('n\n', 'install', ...index(), 'alpha==2.0');
    expect(run.status, run.output).to.equal(4);
    expect(run.output).to.match(/^ {2}upgrade +alpha +1\.0 +2\.0 +MAJOR$/m);
    expect(run.output).to.match(/^ {2}downgrade +beta +2\.0 +1\.0 +MAJOR, DOWNGRADE$/m);
    expect(run.output).to.include(
      '1 downgrade(s), 2 major version jump(s), 1 broken requirement(s). Go on with this pip install? [y/N]',
    );
    expect(run.output).to.include('not confirmed; nothing was installed');
    expect(run.output).not.to.include('Successfully installed');
    expect(freeze()).to.deep.equal(['alpha==1.0', 'beta==2.0', 'gamma==1.0']);
  });

  it("on a terminal with pip's output piped (2>&1 | tee), it does not ask a question no one would see: it says why and goes on", () => {
    const log = join(box.root, 'pip.log');
    // A keyboard that would answer no, had the question been asked.
    const run = onTerminal('n\n', 'install', ...index(), 'alpha==2.0', { pipe: `2>&1 | tee ${sq(log)}` });
    expect(run.status, run.output).to.equal(0);
    expect(run.output).not.to.include('[y/N]');
    const logged = readFileSync(log, 'utf8');
    expect(logged).to.match(/^ {2}downgrade +beta +2\.0 +1\.0 +MAJOR, DOWNGRADE$/m);
    expect(logged).to.include(
      "blast: going on without asking (pip's stdout and stderr go to a pipe or a file, where a question would not be seen; --yes says yes ahead)",
    );
    expect(freeze()).to.deep.equal(['alpha==2.0', 'beta==1.0', 'gamma==1.0']);
    // Back to where the next tests start.
    expect(install('alpha==1.0', 'beta==2.0').status).to.equal(0);
    expect(freeze()).to.deep.equal(['alpha==1.0', 'beta==2.0', 'gamma==1.0']);
  });

  it('downgrades=forbid refuses the install outright, even without a terminal', () => {
    config('downgrades=forbid');
    try {
      const run = install('alpha==2.0');
      expect(run.status).to.equal(4);
      expect(run.stderr).to.include(
        'this would downgrade beta 2.0 -> 1.0, and this environment forbids downgrades',
      );
      expect(run.stdout).not.to.include('Successfully installed');
      expect(freeze()).to.deep.equal(['alpha==1.0', 'beta==2.0', 'gamma==1.0']);
    } finally {
      config('--unset', 'downgrades');
    }
  });

  it('a constraint blocks an upgrade: in Blast’s pip, in blast impact, and in python -m pip of an activated shell', () => {
    config('constraint=alpha<2');
    try {
      const upgrade = install('-U', 'alpha');
      expect(upgrade.status, upgrade.stderr).to.equal(0);
      expect(freeze()).to.include('alpha==1.0');
      const impact = blast(box, ['impact', '--env', 'demo', '--', ...index(), 'alpha==2.0'], {
        env: baseEnv(),
      });
      expect(impact.status).to.equal(1);
      expect(impact.stderr).to.include("pip's resolver cannot plan this install");
      expect(impact.stderr).to.include("The environment's constraints: alpha<2.");

      // A new activation exports PIP_CONSTRAINT: pip that Blast does not see honours it too.
      const start = throughFunction(box, ['start', 'demo'], { env: baseEnv() });
      expect(start.status, start.stderr).to.equal(0);
      expect(start.stderr).to.include('pip constraints: alpha<2');
      const script = join(box.root, 'start-constrained.sh');
      writeFileSync(script, start.script);
      const shell = spawnSync(
        'bash',
        [
          '-c',
          'source "$1" && printf "%s\\n" "$PIP_CONSTRAINT" && python -m pip install -q "$2" "$3" "$4" -U alpha',
          'bash',
          script,
          ...index(),
        ],
        { env: baseEnv(), encoding: 'utf8' },
      );
      expect(shell.status, shell.stderr).to.equal(0);
      expect(shell.stdout.trim()).to.match(/^file:\/\/.*\/blast%20home\/envs\/demo\/blast-constraints\.txt$/);
      expect(freeze()).to.include('alpha==1.0');
      const check = blast(box, ['check', '--json'], { env: baseEnv() });
      expect(check.stdout).to.match(/"name": "pip constraints"[^}]*"message": "alpha<2"/);
    } finally {
      config('--unset', 'constraint');
    }
  });

  it('blast check says when the constraints file lags behind the settings, and --fix rewrites it', () => {
    // The previous test unset the constraint; the file the activated shell points at still says alpha<2.
    const file = join(envPath, 'blast-constraints.txt');
    expect(readFileSync(file, 'utf8')).to.include('alpha<2');
    const check = blast(box, ['check', '--json'], { env: baseEnv() });
    expect(check.stdout).to.match(
      /"name": "pip constraints"[^}]*"status": "warn"[^}]*does not say what the settings say \(none\)/,
    );
    const fix = blast(box, ['check', '--fix'], { env: baseEnv() });
    expect(fix.stdout).to.match(/pip constraints.*fixed|fixed.*pip constraints/);
    expect(readFileSync(file, 'utf8')).not.to.include('alpha<2');
    // Emptied, not removed: a shell still pointing at it keeps a pip that works.
    expect(readFileSync(file, 'utf8')).to.match(/^#[^\n]*\n$/);
  });

  it('without a terminal it goes on after the table; pip check after it warns of what broke', () => {
    const run = install('alpha==2.0');
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/^ {2}downgrade +beta +2\.0 +1\.0/m);
    expect(run.stderr).to.include(
      'blast: going on without asking (stdin is not a terminal, so no answer could be read; --yes says yes ahead)',
    );
    expect(run.stderr).to.include('To refuse such installs instead: blast config downgrades=forbid');
    expect(run.stderr).to.include('blast: warning: pip check found broken requirements after this change:');
    expect(run.stderr).to.match(/gamma 1\.0 has requirement alpha<2, but you have alpha 2\.0/);
    expect(freeze()).to.deep.equal(['alpha==2.0', 'beta==1.0', 'gamma==1.0']);
    const check = blast(box, ['check', '--json'], { env: baseEnv() });
    expect(check.stdout).to.match(/"name": "pip check"[^}]*"status": "warn"/);
  });

  it('consistency=strict rolls back an install that leaves a broken requirement', () => {
    pip('uninstall', '-y', 'gamma');
    config('consistency=strict');
    try {
      const run = install('--no-deps', 'delta');
      expect(run.stdout).to.include('Successfully installed delta-1.0');
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include('pip check found broken requirements (consistency=strict)');
      expect(run.stderr).to.include('delta 1.0 requires epsilon, which is not installed.');
      expect(run.stderr).to.include('the environment was put back as it was before this pip command');
      expect(freeze()).to.deep.equal(['alpha==2.0', 'beta==1.0']);
    } finally {
      config('--unset', 'consistency');
    }
  });

  it('an uninstall shows what goes and what it breaks', () => {
    const run = pip('uninstall', '-y', 'beta');
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/^ {2}remove +beta +1\.0 +REMOVAL$/m);
    expect(run.stderr).to.include('alpha 2.0 requires beta<2, which would be missing');
    expect(freeze()).to.deep.equal(['alpha==2.0']);
  });

  it("pip's cache: its size in blast check, cleared by blast clean --cache", () => {
    const cache = join(box.root, 'pip cache');
    mkdirSync(join(cache, 'http-v2', 'a', 'b'), { recursive: true });
    mkdirSync(join(cache, 'wheels', 'c'), { recursive: true });
    writeFileSync(join(cache, 'http-v2', 'a', 'b', '0123abcd'), Buffer.alloc(4096, 1));
    writeFileSync(join(cache, 'wheels', 'c', 'x-1.0-py3-none-any.whl'), Buffer.alloc(1024, 2));
    const env = { ...baseEnv(), PIP_CACHE_DIR: cache };
    const check = blast(box, ['check', '--json'], { env });
    expect(check.stdout, check.stdout).to.match(
      /"name": "pip cache"[^}]*"message": "5\.0 KiB in [^"]*pip cache/,
    );
    const dry = blast(box, ['clean', '--cache', '--dry-run'], { env });
    expect(dry.status, dry.stderr).to.equal(0);
    expect(dry.stdout).to.include(`would remove pip cache ${cache} (5.0 KiB)`);
    expect(existsSync(join(cache, 'wheels', 'c', 'x-1.0-py3-none-any.whl'))).to.equal(true);
    const clean = blast(box, ['clean', '--cache'], { env });
    expect(clean.status, clean.stderr).to.equal(0);
    expect(clean.stdout).to.include(`removed pip cache ${cache}`);
    expect(readdirSync(join(cache, 'wheels', 'c'))).to.deep.equal([]);
    expect(readdirSync(join(cache, 'http-v2', 'a', 'b'))).to.deep.equal([]);
    // Without --cache, clean leaves pip's cache alone.
    const plain = blast(box, ['clean', '--json'], { env });
    expect(plain.stdout).not.to.include('pip cache');
  });
  it('downgrades=forbid vetoes a `blast load` or `load --revision N` that downgrades; nothing changes', () => {
    expect(pip('uninstall', '-y', 'alpha').status).to.equal(0);
    expect(install('alpha==1.0', 'beta==2.0').status).to.equal(0);
    const save = blast(box, ['save', '--env', 'demo', 'old'], { env: baseEnv() });
    expect(save.status, save.stderr).to.equal(0);
    expect(install('alpha==2.0').status).to.equal(0); // forces beta down to 1.0
    expect(freeze()).to.deep.equal(['alpha==2.0', 'beta==1.0']);
    const history = JSON.parse(
      blast(box, ['history', '--env', 'demo', '--json'], { env: baseEnv() }).stdout,
    ) as {
      entries: Array<{ kind: string; n?: number; detail?: string }>;
    };
    const n = history.entries.find(
      (e) => e.kind === 'revision' && e.detail?.endsWith('alpha==1.0 beta==2.0'),
    )?.n;
    expect(n, JSON.stringify(history.entries)).to.be.a('number');
    config('downgrades=forbid');
    try {
      for (const args of [['old'], ['--revision', String(n)]]) {
        const run = blast(box, ['load', '--env', 'demo', ...args], { env: baseEnv() });
        expect(run.status, args.join(' ')).to.equal(4);
        expect(run.stderr).to.include('blast: impact of this blast load:');
        expect(run.stderr).to.include(
          'this would downgrade alpha 2.0 -> 1.0, and this environment forbids downgrades (downgrades=forbid); nothing was changed',
        );
        expect(run.stderr).not.to.match(/\n\s+at /);
        expect(freeze()).to.deep.equal(['alpha==2.0', 'beta==1.0']);
      }
    } finally {
      config('--unset', 'downgrades');
    }
    // Under the default policy, without a terminal, it goes on and says so.
    const run = blast(box, ['load', '--env', 'demo', 'old'], { env: baseEnv() });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.include('going on without asking (no terminal, or --yes): 1 downgrade(s)');
    expect(freeze()).to.deep.equal(['alpha==1.0', 'beta==2.0']);
  });
});
