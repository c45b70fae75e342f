/**
 * The lean path (src/lib/plugin-host/lean.ts): `blast start NAME` and `blast kill` through the shell
 * function, and `blast pip -- …` through the pip shim, run without loading oclif's config, and every plugin that answers an event
 * is still asked, with what oclif's own `Config.runHook` gives (same successes, same failures).
 * Anything it does not know as oclif does (a plugin answering one of oclif's own events, a user
 * or linked plugin) is left to oclif.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leanConfig } from '../src/lib/plugin-host/lean.js';
import { ExitCode } from '../src/lib/cli/errors.js';
import { blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { supportedByVersion } from './python/world.js';

/** A CLI root with plugins in node_modules, as npm lays them out. */
function fakeCli(plugins: Record<string, Record<string, string>>, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'blast-lean-cli-'));
  const write = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  write(
    'package.json',
    JSON.stringify({
      name: 'fakecli',
      version: '1.0.0',
      type: 'module',
      dependencies: Object.fromEntries(Object.keys(plugins).map((n) => [n, '1.0.0'])),
      // oclif loads only the listed plugins that are dependencies: the lean path too.
      oclif: { bin: 'fakecli', plugins: [...Object.keys(plugins), 'not-a-dependency'] },
    }),
  );
  for (const [name, hooks] of Object.entries(plugins))
    write(
      `node_modules/${name}/package.json`,
      JSON.stringify({ name, version: '1.0.0', type: 'module', oclif: { hooks } }),
    );
  for (const [rel, text] of Object.entries(files)) write(rel, text);
  return root;
}

type Outcome = {
  successes: Array<{ plugin: { name: string }; result: unknown }>;
  failures: Array<{ plugin: { name: string }; error: Error }>;
};
const summary = (o: Outcome) => ({
  successes: o.successes.map((s) => [s.plugin.name, s.result]).sort(),
  failures: o.failures.map((f) => [f.plugin.name, f.error.message]).sort(),
});

describe('the lean path of start, kill and pip', function () {
  this.timeout(120_000);

  describe('through the real CLI', () => {
    let box: Sandbox;
    let probeDir: string;
    before(() => {
      box = sandbox();
      probeDir = mkdtempSync(join(tmpdir(), 'blast-lean-probe-'));
      // Loaded into every Node the test starts (the daemon too: it writes only for start and kill).
      writeFileSync(
        join(probeDir, 'probe.cjs'),
        `const command = process.argv[2];
if (['start', 'kill', 'pip', 'load'].includes(command))
  process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(probeDir)} + '/' + command + '-' + process.pid,
    JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('@oclif'))) ));\n`,
      );
    });
    after(() => {
      box.cleanup();
      rmSync(probeDir, { recursive: true, force: true });
    });
    const loaded = (command: string) =>
      readdirSync(probeDir)
        .filter((f) => f.startsWith(`${command}-`))
        .flatMap((f) => JSON.parse(readFileSync(join(probeDir, f), 'utf8')) as string[]);

    it('start NAME and kill load none of oclif, and the plugins still answer (the daemon’s socket)', () => {
      const nodeOptions = { NODE_OPTIONS: `--require ${join(probeDir, 'probe.cjs')}` };
      // Created through oclif's path too, once (the lean path takes plain lines only: this one has a flag).
      const created = throughFunction(box, ['start', 'lean', '--env', 'A=1']);
      expect(created.status, created.stderr).to.equal(0);
      for (const f of readdirSync(probeDir)) if (f !== 'probe.cjs') rmSync(join(probeDir, f));
      const start = throughFunction(box, ['start', 'lean'], { env: nodeOptions });
      expect(start.status, start.stderr).to.equal(0);
      expect(start.script).to.match(/BLAST_SOCKET=/);
      expect(start.script).to.match(/export A='1'|A='1'/);
      const state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(start.script)![1]!;
      const kill = throughFunction(box, ['kill'], { env: { ...nodeOptions, BLAST_SHELL_STATE: state } });
      expect(kill.status, kill.stderr).to.equal(0);
      expect(kill.script).to.match(/unset -v BLAST_SHELL_STATE/);
      expect(loaded('start').filter((k) => k.includes('config/config.js'))).to.deep.equal([]);
      expect(loaded('kill').filter((k) => k.includes('config/config.js'))).to.deep.equal([]);
      expect(loaded('start').length + loaded('kill').length).to.equal(0);
      // A user's error, shown as every command shows one, still without oclif.
      const bad = throughFunction(box, ['start', 'bad/name'], { env: nodeOptions });
      expect(bad.status).to.equal(2);
      expect(bad.stderr).to.match(/^blast: Invalid environment name "bad\/name"/);
      expect(bad.script).to.equal('');
      expect(loaded('start').length).to.equal(0);
    });
    it('pip through the shim loads none of oclif, and the plugins still judge it (a refused downgrade)', async () => {
      const py = (await supportedByVersion()).at(-1);
      if (!py) throw new Error('no supported Python on this machine');
      const wheels = join(box.root, 'wheels');
      mkdirSync(wheels, { recursive: true });
      buildWheel(py.executable, wheels, 'leanpkg', '1.0');
      buildWheel(py.executable, wheels, 'leanpkg', '2.0');
      const started = throughFunction(box, ['start', 'leanpip', '--python', py.executable]);
      expect(started.status, started.stderr).to.equal(0);
      const state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(started.script)![1]!;
      const env: Record<string, string> = { BLAST_SHELL_STATE: state, BLAST_YES: '1' };
      for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
      env.NODE_OPTIONS = `--require ${join(probeDir, 'probe.cjs')}`;
      const pip = (...args: string[]) =>
        blast(box, ['pip', '--', 'install', '-q', '--no-index', '--find-links', wheels, ...args], { env });
      const up = pip('leanpkg==2.0');
      expect(up.status, up.stderr).to.equal(0);
      // resolver-pip's reviewInstall, asked on the lean path, refuses the downgrade: nothing changes.
      const set = blast(box, ['config', '--env', 'leanpip', 'downgrades=forbid']);
      expect(set.status, set.stderr).to.equal(0);
      const down = pip('leanpkg==1.0');
      expect(down.status).to.not.equal(0);
      expect(down.stderr).to.match(/downgrade/i);
      expect(loaded('pip').filter((k) => k.includes('config/config.js'))).to.deep.equal([]);
      expect(loaded('pip')).to.deep.equal([]);
      expect(readdirSync(probeDir).filter((f) => f.startsWith('pip-')).length).to.be.greaterThan(1);
      const history = blast(box, ['history', '--env', 'leanpip', '--json']);
      expect(history.status, history.stderr).to.equal(0);
      expect(history.stdout).to.match(/leanpkg==2\.0/);
      expect(history.stdout).to.not.match(/leanpkg==1\.0/);
    });

    it('a plain load (a rollback) loads none of oclif and says what oclif’s does; --json is oclif’s', () => {
      const env = { NODE_OPTIONS: `--require ${join(probeDir, 'probe.cjs')}` };
      const saved = blast(box, ['save', 'base', '--env', 'leanpip']);
      expect(saved.status, saved.stderr).to.equal(0);
      const python = join(box.blastHome, 'envs', 'leanpip', 'bin', 'python');
      const removed = spawnSync(python, ['-m', 'pip', 'uninstall', '-y', '-q', 'leanpkg'], { env: box.env });
      expect(removed.status, String(removed.stderr)).to.equal(0);
      const lean = blast(box, ['load', '--env=leanpip', 'base'], { env });
      expect(lean.status, lean.stderr).to.equal(0);
      expect(lean.stdout).to.match(/^Restored base into leanpip in \d+ ms: \+leanpkg 2\.0/);
      expect(loaded('load')).to.deep.equal([]);
      const back = spawnSync(python, ['-c', 'import leanpkg'], { env: box.env });
      expect(back.status, String(back.stderr)).to.equal(0);
      // The same line through oclif (a flag the lean path leaves to it), and JSON only there.
      spawnSync(python, ['-m', 'pip', 'uninstall', '-y', '-q', 'leanpkg'], { env: box.env });
      const json = blast(box, ['load', 'base', '--env', 'leanpip', '--json'], { env });
      expect(json.status, json.stderr).to.equal(0);
      expect(JSON.parse(json.stdout)).to.include({ name: 'base' });
      expect(loaded('load').length).to.be.greaterThan(0);
      // A user's mistake, as every command shows one, on the lean path too.
      const missing = blast(box, ['load', 'nope', '--env', 'leanpip']);
      expect(missing.status).to.equal(ExitCode.notFound);
      expect(missing.stderr).to.match(
        /^blast: No snapshot named nope in environment leanpip; snapshots: base/,
      );
    });
  });

  describe('its config, against oclif’s', () => {
    const roots: string[] = [];
    after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

    it('asks every plugin that answers an event, as Config.runHook does', async () => {
      const root = fakeCli(
        { 'p-a': { ping: './ping.js' }, 'p-b': { ping: './ping.js' }, 'p-c': { other: './other.js' } },
        {
          'node_modules/p-a/ping.js':
            'export default async function (o) { return `a ${o.n} ${this.config.root === o.config.root}`; }\n',
          'node_modules/p-b/ping.js': 'export default async function () { throw new Error("b broke"); }\n',
          'node_modules/p-c/other.js': 'export default async function () { return "c"; }\n',
        },
      );
      roots.push(root);
      const env = { ...process.env, HOME: root, XDG_DATA_HOME: join(root, 'data') };
      const lean = leanConfig(root, env)!;
      expect(lean, 'the lean config').to.not.equal(undefined);
      const { Config } = await import('@oclif/core');
      const oclif = await Config.load({ root });
      const ours = summary(
        (await lean.runHook('ping' as never, { n: 1 } as never, undefined, true)) as Outcome,
      );
      const theirs = summary(
        (await oclif.runHook('ping' as never, { n: 1 } as never, undefined, true)) as Outcome,
      );
      expect(ours).to.deep.equal(theirs);
      expect(ours).to.deep.equal({ successes: [['p-a', 'a 1 true']], failures: [['p-b', 'b broke']] });
    });

    it('leaves to oclif a plugin answering oclif’s own events, and user or linked plugins', () => {
      const root = fakeCli(
        { 'p-a': { prerun: './prerun.js' } },
        { 'node_modules/p-a/prerun.js': 'export default async () => {};\n' },
      );
      const plain = fakeCli(
        { 'p-a': { ping: './ping.js' } },
        { 'node_modules/p-a/ping.js': 'export default async () => 1;\n' },
      );
      roots.push(root, plain);
      const env = (r: string) => ({ ...process.env, HOME: r, XDG_DATA_HOME: join(r, 'data') });
      expect(leanConfig(root, env(root))).to.equal(undefined);
      expect(leanConfig(plain, env(plain))).to.not.equal(undefined);
      mkdirSync(join(plain, 'data', 'fakecli'), { recursive: true });
      writeFileSync(
        join(plain, 'data', 'fakecli', 'package.json'),
        JSON.stringify({ oclif: { plugins: [{ name: 'mine', type: 'link', root: '/somewhere' }] } }),
      );
      expect(leanConfig(plain, env(plain))).to.equal(undefined);
    });
  });
});
