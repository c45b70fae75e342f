/** `blast check` through the real CLI: what it finds wrong on disk, and what --fix does about it. */
import { expect } from 'chai';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';

interface Reported {
  name: string;
  env?: string;
  status: string;
  source: string;
  repaired?: boolean;
}

describe('blast check', function () {
  this.timeout(120_000);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  const envPath = (name: string) => join(box.blastHome, 'envs', name);
  const check = (args: string[] = []) => {
    const run = blast(box, ['check', '--json', ...args]);
    const out = JSON.parse(run.stdout) as { ok: boolean; checks: Reported[] };
    return { status: run.status, ...out, core: out.checks.filter((c) => c.source === 'blast') };
  };
  const listed = () => {
    const run = blast(box, ['list', '--json', '--no-size']);
    expect(run.status, run.stderr).to.equal(0);
    return (JSON.parse(run.stdout) as Array<{ name: string; path: string }>).map((e) => [e.name, e.path]);
  };
  const nameIn = (name: string) =>
    (JSON.parse(readFileSync(join(envPath(name), 'blast.json'), 'utf8')) as { name: string }).name;
  const start = (name: string) => expect(throughFunction(box, ['start', name]).status).to.equal(0);

  it('fails (exit 5) on a corrupt pyvenv.cfg, naming the environment', () => {
    start('demo');
    expect(check().status).to.equal(0);
    writeFileSync(join(envPath('demo'), 'pyvenv.cfg'), 'this is not a venv config\n');
    const sick = check();
    expect(sick.status).to.equal(5);
    expect(sick.ok).to.equal(false);
    const cfg = sick.core.find((c) => c.name === 'pyvenv.cfg valid' && c.env === 'demo');
    expect(cfg?.status).to.equal('fail');
    const text = blast(box, ['check']);
    expect(text.status).to.equal(5);
    expect(text.stdout).to.match(/^fail\s+pyvenv\.cfg valid\s+demo\s+.*pyvenv\.cfg is corrupt/m);
  });

  it('fails on a damaged blast.json, which start names, and --fix rewrites it so start works again', () => {
    expect(throughFunction(box, ['start', 'demo', '--env', 'KEEP=1']).status).to.equal(0);
    const file = join(envPath('demo'), 'blast.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    const blocked = throughFunction(box, ['start', 'demo']);
    expect(blocked.status).to.equal(1);
    expect(blocked.stderr).to.include(`${file} is damaged: it is not JSON.`);
    expect(blocked.stderr).to.include('`blast check --fix` rewrites it');
    const sick = check();
    expect(sick.status).to.equal(5);
    expect(sick.core.find((c) => c.name === 'blast.json readable')).to.include({
      env: 'demo',
      status: 'fail',
    });
    const fixed = check(['--fix']);
    expect(fixed.status, JSON.stringify(fixed.core)).to.equal(0);
    expect(fixed.core.find((c) => c.name === 'blast.json readable')).to.include({ repaired: true });
    expect(check().core.map((c) => c.name)).not.to.include('blast.json readable');
    expect(throughFunction(box, ['start', 'demo']).status).to.equal(0);
    expect(nameIn('demo')).to.equal('demo');
  });

  it('a variable holding a NUL in blast.json: start and run name it and the file, check --fix drops only it', () => {
    expect(throughFunction(box, ['start', 'demo', '--env', 'KEEP=kept']).status).to.equal(0);
    const file = join(envPath('demo'), 'blast.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as { variables: Record<string, string> };
    config.variables.BAD = 'a\0b';
    writeFileSync(file, JSON.stringify(config));
    for (const args of [
      ['start', 'demo'],
      ['run', 'demo', '--', 'true'],
    ]) {
      const run = throughFunction(box, args);
      expect(run.status, args.join(' ')).to.equal(1);
      expect(run.stderr).to.include(
        `${file} is damaged: variable BAD contains a NUL character, which no process environment can hold.`,
      );
      expect(run.stderr).not.to.match(/TypeError|\n\s+at /);
    }
    const text = blast(box, ['check']);
    expect(text.status).to.equal(5);
    expect(text.stdout).to.match(
      /^fail\s+blast\.json readable\s+demo\s+.*keeping variable\(s\) KEEP, dropping variable\(s\) BAD/m,
    );
    expect(check(['--fix']).status).to.equal(0);
    const run = blast(box, ['run', 'demo', '--', 'sh', '-c', 'printf %s "$KEEP-${BAD-unset}"']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.equal('kept-unset');
  });

  it('warns about an environment on disk the registry lacks, and --fix registers it', () => {
    start('demo');
    // Forget it in the registry the way a lost registry would: the folder stays.
    writeFileSync(join(box.blastHome, 'state', 'registry.db'), '');
    expect(listed()).to.deep.equal([]);
    const text = blast(box, ['check']);
    expect(text.stdout).to.match(/^warn\s+registry and disk agree\s+demo\s+.*registry does not list/m);
    const fixed = check(['--fix']);
    expect(fixed.core.find((c) => c.name === 'registry and disk agree')).to.include({
      status: 'warn',
      env: 'demo',
      repaired: true,
    });
    expect(listed()).to.deep.equal([['demo', envPath('demo')]]);
    const again = check();
    expect(again.core.find((c) => c.name === 'registry and disk agree')?.status).to.equal('ok');
  });

  it('registers a copied environment under its folder name and rewrites the name in its blast.json', () => {
    start('n3');
    cpSync(envPath('n3'), envPath('n3copy'), { recursive: true, verbatimSymlinks: true });
    const found = check();
    const agree = found.core.find((c) => c.name === 'registry and disk agree');
    expect(agree).to.include({ status: 'warn', env: 'n3copy' });
    expect(blast(box, ['check']).stdout).to.include('its blast.json still says "n3"');
    // Before any fix, starting the copy already calls it by its folder's name, not the original's.
    const copy = throughFunction(box, ['start', 'n3copy']);
    expect(copy.status, copy.stderr).to.equal(0);
    expect(copy.script).to.match(/^export VIRTUAL_ENV_PROMPT='n3copy'$/m);

    check(['--fix']);
    expect(listed()).to.deep.equal([
      ['n3', envPath('n3')],
      ['n3copy', envPath('n3copy')],
    ]);
    expect(nameIn('n3copy')).to.equal('n3copy');
    expect(nameIn('n3')).to.equal('n3');
    // What --fix cannot mend: the copy's scripts still run the original's Python (pip would act on n3).
    const after = check();
    expect(after.core.filter((c) => c.status !== 'ok').map((c) => [c.name, c.env, c.status])).to.deep.equal([
      ['scripts run this environment', 'n3copy', 'warn'],
    ]);
    expect(blast(box, ['check']).stdout).to.include(`bin/pip runs ${join(envPath('n3'), 'bin', 'python3')}`);
  });

  it('renames a registered environment whose blast.json or registry entry carries another name', () => {
    start('a');
    start('b');
    // `a` replaced by a copy of `b` (its blast.json says "b"), registered under the wrong name too.
    rmSync(envPath('a'), { recursive: true });
    cpSync(envPath('b'), envPath('a'), { recursive: true, verbatimSymlinks: true });
    const registry = join(box.blastHome, 'state', 'registry.db');
    writeFileSync(registry, readFileSync(registry, 'utf8').replace('"name":"a"', '"name":"b"'));
    expect(listed().map(([name]) => name)).to.deep.equal(['b', 'b']);
    const found = check();
    const named = found.core.find((c) => c.name === 'named after its folder');
    expect(named).to.include({ status: 'warn', env: 'a' });
    expect(blast(box, ['check']).stdout).to.match(/the registry says "b" and its blast\.json says "b"/);

    expect(check(['--fix']).core.find((c) => c.name === 'named after its folder')?.repaired).to.equal(true);
    expect(listed()).to.deep.equal([
      ['a', envPath('a')],
      ['b', envPath('b')],
    ]);
    expect(nameIn('a')).to.equal('a');
    expect(check().core.find((c) => c.name === 'named after its folder')).to.equal(undefined);
  });
});
