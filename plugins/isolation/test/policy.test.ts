/**
 * The policy's settings: each value checked and normalised by its parse(), the level that follows
 * from them, the directories the sandbox makes writable; and, through the real CLI, a bad value
 * refused before anything is created, the policy shown by `blast list` and `blast check`.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { blast, sandbox, throughFunction, type Sandbox } from '../../../test/support/cli.js';
import { decodeSaved, encodeSaved } from '../src/limits.js';
import { bytesOf, policyOf, SETTINGS } from '../src/policy.js';
import { bwrapArgs, projectDir } from '../src/sandbox.js';
import { configure, makeEnv } from './support.js';

const parse = (name: string, value: string): string => {
  const spec = SETTINGS.find((s) => s.name === name)!;
  return spec.parse ? spec.parse(value) : value;
};

describe('isolation: settings and policy', () => {
  it('sizes: binary units, normalised; below the minimum or not a size is refused with the reason', () => {
    expect(parse('memory', '512M')).to.equal('512M');
    expect(parse('memory', '2g')).to.equal('2G');
    expect(parse('memory', '1.5GiB')).to.equal('1.5G');
    expect(parse('memory', '134217728')).to.equal('128M');
    expect(parse('disk-quota', '5G')).to.equal('5G');
    expect(bytesOf('1.5G')).to.equal(1.5 * 1024 ** 3);
    expect(() => parse('memory', 'lots')).to.throw('memory is a size such as 512M or 2G');
    expect(() => parse('memory', '96M')).to.throw('memory must be at least 128M');
    expect(() => parse('memory', '-1G')).to.throw('a size such as');
    expect(() => parse('disk-quota', '10K')).to.throw('disk-quota must be at least 1M');
  });

  it('counts and seconds: whole and positive; cpu-time takes s, m, h', () => {
    expect(parse('max-procs', '64')).to.equal('64');
    expect(() => parse('max-procs', '0')).to.throw('at least 1');
    expect(() => parse('max-procs', '2.5')).to.throw('whole number');
    expect(parse('cpu-time', '90')).to.equal('90');
    expect(parse('cpu-time', '90s')).to.equal('90');
    expect(parse('cpu-time', '5m')).to.equal('300');
    expect(parse('cpu-time', '1h')).to.equal('3600');
    expect(() => parse('cpu-time', '0')).to.throw('at least 1');
    expect(() => parse('cpu-time', 'soon')).to.throw('CPU seconds');
  });

  it('the level: given, else what the other settings need; no-network outside the sandbox is refused', () => {
    expect(policyOf({}).level).to.equal('none');
    expect(policyOf({ 'disk-quota': '5G' }).level).to.equal('none');
    expect(policyOf({ memory: '512M' })).to.deep.include({
      level: 'limits',
      explicit: false,
      memory: 512 * 1024 ** 2,
    });
    expect(policyOf({ 'no-network': true }).level).to.equal('sandbox');
    expect(policyOf({ isolation: 'sandbox', 'max-procs': '30' })).to.deep.include({
      level: 'sandbox',
      maxProcs: 30,
    });
    expect(policyOf({ isolation: 'none', memory: '512M' }).level).to.equal('none');
    expect(() => policyOf({ isolation: 'limits', 'no-network': true })).to.throw(
      'no-network needs --isolation sandbox',
    );
    // A hand-edited blast.json is refused, not ignored.
    expect(() => policyOf({ memory: 'much' })).to.throw('the stored memory "much" is not valid');
    expect(() => policyOf({ isolation: 'jail' })).to.throw('the stored isolation "jail"');
  });

  it('the sandbox writes the env and the project, never / or the home (nor above it)', () => {
    expect(projectDir('/', '/home/u')).to.equal(undefined);
    expect(projectDir('/home/u', '/home/u')).to.equal(undefined);
    expect(projectDir('/home', '/home/u')).to.equal(undefined);
    expect(projectDir('/home/u/code/app', '/home/u')).to.equal('/home/u/code/app');
    expect(projectDir('/home/user2', '/home/u')).to.equal('/home/user2');
    const args = bwrapArgs(policyOf({ isolation: 'sandbox', 'no-network': true }), {
      envPath: '/home/u/app/.venv',
      cwd: '/home/u/app',
      home: '/home/u',
      readable: ['/tmp/blast-subshell-x'],
      runtimeDir: '/run/user/1000',
    });
    const pairs = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
    expect(pairs('--bind')).to.deep.equal(['/home/u/app', '/home/u/app/.venv']);
    expect(pairs('--ro-bind')).to.deep.equal(['/']);
    expect(pairs('--ro-bind-try')).to.deep.equal(['/tmp/blast-subshell-x']);
    expect(pairs('--tmpfs')).to.include.members(['/tmp', '/run/user/1000']);
    expect(args).to.include('--unshare-net');
    // Binds after the tmpfs that would hide them.
    expect(args.indexOf('--ro-bind-try')).to.be.greaterThan(args.lastIndexOf('--tmpfs'));
  });

  it('binds Blast and Node back, read-only, when a private mount would hide them (a checkout in /tmp)', () => {
    const args = bwrapArgs(policyOf({ isolation: 'sandbox' }), {
      envPath: '/home/u/app/.venv',
      cwd: '/home/u/app',
      home: '/home/u',
      readable: [],
      runtimeDir: '/run/user/1000',
      programs: ['/tmp/ci/blast', '/usr/local/bin', '/run/user/1000/tools', '/tmpfoo/node'],
    });
    const pairs = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
    expect(pairs('--ro-bind-try')).to.deep.equal(['/tmp/ci/blast', '/run/user/1000/tools']);
    expect(args.indexOf('--ro-bind-try')).to.be.greaterThan(args.lastIndexOf('--tmpfs'));
  });

  it("the shell's saved limits round-trip through their variable; anything else in it is ignored", () => {
    const saved = { data: 'unlimited', nproc: '96365', cpu: '10' } as const;
    expect(encodeSaved(saved)).to.equal('data=unlimited,nproc=96365,cpu=10');
    expect(decodeSaved(encodeSaved(saved))).to.deep.equal(saved);
    expect(decodeSaved('data=1;rm -rf /,nproc=x,cpu=5')).to.deep.equal({ cpu: '5' });
    expect(decodeSaved(undefined)).to.deep.equal({});
  });
});

describe('isolation settings through the CLI', function () {
  this.timeout(120_000);
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box?.cleanup());

  it('start with a bad value: a usage error naming the setting, and nothing is created', () => {
    const run = throughFunction(box, ['start', 'bad', '--memory', 'lots']);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include('--memory "lots": memory is a size such as 512M or 2G');
    expect(existsSync(join(box.blastHome, 'envs', 'bad'))).to.equal(false);
    const level = throughFunction(box, ['start', 'bad', '--isolation', 'jail']);
    expect(level.status).to.equal(2);
    expect(level.stderr).to.include('Expected --isolation=jail to be one of: none, limits, sandbox');
  });

  it('start --help lists the settings; list shows what is enforced; check says whether this machine can', () => {
    const help = blast(box, ['start', '--help']);
    expect(help.stdout).to.match(/--isolation=LEVEL/);
    expect(help.stdout).to.match(/--no-network/);
    makeEnv(box, 'listed');
    configure(box, 'listed', 'memory=1G', 'disk-quota=5G');
    const list = blast(box, ['list', '--json']);
    expect(list.status, list.stderr).to.equal(0);
    const listed = (
      JSON.parse(list.stdout) as Array<{ name: string; plugins: Record<string, unknown> }>
    ).find((e) => e.name === 'listed');
    expect(listed?.plugins['@blast/isolation']).to.deep.equal({ enforced: 'limits' });
    const check = blast(box, ['check']);
    expect(check.stdout + check.stderr).to.match(
      /ok +isolation policy +listed +limits memory=1G can be enforced here, disk-quota 5G after each pip transaction/,
    );
    makeEnv(box, 'quota-only');
    configure(box, 'quota-only', 'disk-quota=2G');
    expect(blast(box, ['check']).stdout).to.match(
      /ok +isolation policy +quota-only +disk-quota 2G checked after each pip transaction/,
    );
    configure(box, 'listed', 'isolation=sandbox');
    expect(blast(box, ['check']).stdout).to.match(
      /ok +isolation policy +listed +sandbox memory=1G can be enforced/,
    );
  });
});
