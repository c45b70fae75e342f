/**
 * Blast commands at once on one environment, through the real CLI: concurrent loads bring one
 * snapshot back whole, concurrent starts keep every variable, saves never collide on a name.
 */
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { killDaemons } from '../plugins/daemon/test/support.js';
import { BIN, blast, type Run, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { freeTimestampName } from '../src/lib/envs/target.js';
import { runPip, runTransaction } from '../src/lib/transaction/index.js';
import { readEnvConfig, infoOf } from '../src/lib/envs/config.js';

/** `blast ARGS` without waiting, as another terminal would run it. */
function blastAsync(
  box: Sandbox,
  args: string[],
  env: Record<string, string> = {},
  onStderr?: (text: string) => void,
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...box.env, ...env },
      cwd: box.home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    child.on('error', fail);
    child.on('close', (code) => done({ stdout, stderr, status: code ?? 128 }));
  });
}

describe('commands at once on one environment', function () {
  this.timeout(400_000);
  let box: Sandbox;
  let envPath: string;
  let wheels: string;
  const pipVars = () => ({
    ...(isolatedPipEnv(box.env) as Record<string, string>),
    PIP_NO_INDEX: '1',
    // pip splits this variable on whitespace, and the sandbox's path has a space: a file URL has none.
    PIP_FIND_LINKS: pathToFileURL(wheels).href,
  });
  const pip = (...args: string[]) =>
    execFileSync(join(envPath, 'bin', 'python'), ['-m', 'pip', ...args], {
      env: pipVars(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const ok = (args: string[]) => {
    const run = blast(box, args, { env: pipVars() });
    expect(run.status, run.stderr).to.equal(0);
    return run;
  };
  const sitePackages = () => {
    const lib = join(envPath, 'lib');
    return join(
      lib,
      readdirSync(lib).find((d) => d.startsWith('python'))!,
      'site-packages',
    );
  };
  const distInfos = () =>
    readdirSync(sitePackages())
      .filter((f) => f.endsWith('.dist-info') && !f.startsWith('pip-'))
      .sort();
  const freeze = () =>
    pip('freeze', '--all')
      .split('\n')
      .filter((l) => l && !l.startsWith('pip=='))
      .sort();

  before(() => {
    box = sandbox();
    const start = throughFunction(box, ['start', 'demo']);
    expect(start.status, start.stderr).to.equal(0);
    killDaemons(box); // its `blast record`s are not what these tests are about
    envPath = join(box.blastHome, 'envs', 'demo');
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const python = join(envPath, 'bin', 'python');
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha' });
    buildWheel(python, wheels, 'alpha', '2.0', { script: 'alpha', files: { 'alpha/extra.py': 'X = 1\n' } });
    buildWheel(python, wheels, 'mid', '1.0', { files: { 'mid/one.py': 'ONE = 1\n' } });
    buildWheel(python, wheels, 'mid', '2.0', { files: { 'mid/two.py': 'TWO = 2\n' } });
    buildWheel(python, wheels, 'beta', '1.0', { script: 'beta' });
  });

  after(() => box?.cleanup());

  it('ten `blast load sA` / `blast load sB` at once leave exactly sA or exactly sB', async () => {
    pip('install', 'alpha==1.0', 'mid==1.0');
    ok(['save', '--env', 'demo', 'sA']);
    const a = { infos: distInfos(), freeze: freeze() };
    pip('install', 'alpha==2.0', 'mid==2.0', 'beta==1.0');
    ok(['save', '--env', 'demo', 'sB']);
    const b = { infos: distInfos(), freeze: freeze() };
    expect(a.infos).to.not.deep.equal(b.infos);

    // Several rounds: without one lock for the whole load, some round mixes the two (seen every time).
    for (let round = 0; round < 5; round++) {
      const runs = await Promise.all(
        Array.from({ length: 10 }, (_, i) => blastAsync(box, ['load', '--env', 'demo', i % 2 ? 'sB' : 'sA'])),
      );
      for (const run of runs) expect(run.status, run.stderr).to.equal(0);
      const now = { infos: distInfos(), freeze: freeze() };
      expect([a, b], JSON.stringify(now)).to.deep.include(now);
      // Nothing else left behind: the site-packages holds exactly that snapshot's distributions.
      const mids = readdirSync(sitePackages()).filter((f) => f.startsWith('mid'));
      expect(mids).to.have.length(2); // the package and its one dist-info
    }
  });

  it('`save --lock requirements.txt && save --lock pylock.toml`, and four saves at once, all succeed under names of their own', async () => {
    ok(['save', '--env', 'demo', '--lock', join(box.root, 'requirements.txt')]);
    ok(['save', '--env', 'demo', '--lock', join(box.root, 'pylock.toml')]);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => blastAsync(box, ['save', '--env', 'demo', '--json'], pipVars())),
    );
    for (const run of runs) expect(run.status, run.stderr).to.equal(0);
    const names = runs.map((r) => (JSON.parse(r.stdout) as { name: string }).name);
    expect(new Set(names).size).to.equal(4);
    const listed = JSON.parse(ok(['load', '--env', 'demo', '--list', '--json']).stdout) as { name: string }[];
    // sA, sB, the two with locks, the four.
    expect(listed.map((s) => s.name)).to.include.members(names);
    expect(listed).to.have.length(8);
  });

  it('ten `blast start v --env Ki=vi` at once keep all ten variables', async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const script = join(box.root, `start-${i}.sh`);
        writeFileSync(script, '', { mode: 0o600 });
        return blastAsync(box, ['start', 'v', '--env', `K${i}=v${i}`], {
          BLAST_SHELL: 'bash',
          BLAST_SHELL_SCRIPT: script,
          BLAST_SHELL_PID: String(process.pid),
        });
      }),
    );
    for (const run of runs) expect(run.status, run.stderr).to.equal(0);
    killDaemons(box);
    const config = JSON.parse(readFileSync(join(box.blastHome, 'envs', 'v', 'blast.json'), 'utf8')) as {
      variables: Record<string, string>;
    };
    expect(config.variables).to.deep.equal(
      Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`K${i}`, `v${i}`])),
    );
    for (let i = 0; i < 10; i++) rmSync(join(box.root, `start-${i}.sh`), { force: true });
  });

  it('a start that read no blast.json just before another start’s new environment appeared takes that one', async () => {
    const pause = join(box.root, 'paused-at-config-read');
    const script = join(box.root, 'late.sh');
    writeFileSync(script, '', { mode: 0o600 });
    const through = { BLAST_SHELL: 'bash', BLAST_SHELL_PID: String(process.pid) };
    // The late start has read no blast.json (there is no folder yet) and waits right there.
    const late = blastAsync(box, ['start', 'appearing', '--env', 'LATE=1'], {
      ...through,
      BLAST_SHELL_SCRIPT: script,
      BLAST_TEST_PAUSE_AT: 'env-config-read',
      BLAST_TEST_PAUSE_FILE: pause,
    });
    const deadline = Date.now() + 60_000;
    while (!existsSync(pause) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(pause), 'the late start reached its pause').to.equal(true);
    // Meanwhile another start creates the environment (its folder appears whole, blast.json in it).
    const first = join(box.root, 'first.sh');
    writeFileSync(first, '', { mode: 0o600 });
    const created = await blastAsync(box, ['start', 'appearing', '--env', 'FIRST=1'], {
      ...through,
      BLAST_SHELL_SCRIPT: first,
    });
    expect(created.status, created.stderr).to.equal(0);
    rmSync(pause);
    const run = await late;
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).not.to.match(/did not create/);
    killDaemons(box);
    const config = JSON.parse(
      readFileSync(join(box.blastHome, 'envs', 'appearing', 'blast.json'), 'utf8'),
    ) as {
      variables: Record<string, string>;
    };
    expect(config.variables).to.deep.equal({ FIRST: '1', LATE: '1' });
  });

  it('a pip transaction holds the environment while pip runs: a load waits (saying for whom), record skips', async () => {
    ok(['load', '--env', 'demo', 'sA']);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let pipStarted = false;
    const info = infoOf(envPath, (await readEnvConfig(envPath))!);
    const transaction = runTransaction({
      envPath,
      event: { env: info, args: ['install', 'beta==1.0'], command: 'install', interactive: false },
      hooks: { preInstall: async () => {}, postInstall: async () => {} },
      env: { ...box.env, ...pipVars() },
      // pip, once the test lets it: the transaction holds the environment meanwhile.
      pip: async (root, args, env, onSpawn) => {
        pipStarted = true;
        await gate;
        return runPip(root, [...args, '-q'], env, onSpawn);
      },
      report: () => {},
    });
    let loadDone = false;
    let waiting = false;
    const line = `blast: waiting for pid ${process.pid} (pip install beta==1.0) to finish with`;
    const load = blastAsync(box, ['load', '--env', 'demo', 'sB'], {}, (text) => {
      waiting ||= text.includes(line);
    }).then((run) => ((loadDone = true), run));
    try {
      const deadline = Date.now() + 120_000;
      while (!(pipStarted && (waiting || loadDone)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(pipStarted).to.equal(true);
      expect(loadDone, 'the load waits for the transaction').to.equal(false);
      expect(waiting).to.equal(true);
      // The daemon's `blast record`: nothing to wait for, the transaction records itself.
      const record = await blastAsync(box, ['record', '--env', 'demo', '--source', 'watch', '--json']);
      expect(record.status, record.stderr).to.equal(0);
      expect((JSON.parse(record.stdout) as { busy?: string }).busy).to.include(
        `pid ${process.pid} (pip install beta==1.0) is changing`,
      );
      expect(loadDone, 'the load waits for the transaction').to.equal(false);
    } finally {
      open();
    }
    const result = await transaction;
    expect(result.exitCode).to.equal(0);
    const loaded = await load;
    expect(loaded.status, loaded.stderr).to.equal(0);
    expect(loaded.stderr).to.include(
      `blast: waiting for pid ${process.pid} (pip install beta==1.0) to finish with`,
    );
    // The load came after the whole transaction: sB, with beta from sB (not a mix).
    expect(freeze()).to.deep.equal(['alpha==2.0', 'beta==1.0', 'mid==2.0']);
  });

  it('a made-up snapshot name taken in the same millisecond gets a -2, -3...', () => {
    const at = new Date('2026-12-03T09:33:55.123Z');
    const taken = new Set(['2026-12-03T09-33-55.123Z', '2026-12-03T09-33-55.123Z-2']);
    expect(freeTimestampName((n) => taken.has(n), at)).to.equal('2026-12-03T09-33-55.123Z-3');
    expect(freeTimestampName(() => false, at)).to.equal('2026-12-03T09-33-55.123Z');
  });
});
