/** `blast clean` through the real CLI: the question it asks on a terminal, and the registry's stale lock. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { killDaemons } from '../plugins/daemon/test/support.js';
import { join } from 'node:path';
import { BIN, blast, createAndLeave, sandbox, throughFunction, type Sandbox } from './support/cli.js';

const sq = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

/**
 * Run blast on a real pty (util-linux `script`), answer `answer` once the question is on the
 * screen, and return what the terminal showed and the exit status.
 */
function onTerminal(
  box: Sandbox,
  args: string[],
  answer: string,
): Promise<{ screen: string; status: number }> {
  const command = [process.execPath, BIN, ...args].map(sq).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: box.env,
      cwd: box.home,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let screen = '';
    let answered = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      screen += chunk;
      if (!answered && screen.includes('[y/N]')) {
        answered = true;
        child.stdin.end(`${answer}\n`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ screen, status: code ?? 128 }));
  });
}

describe('blast clean', function () {
  this.timeout(120_000);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  const envPath = (name: string) => join(box.blastHome, 'envs', name);
  const listed = () => {
    const run = blast(box, ['list', '--json', '--no-size']);
    expect(run.status, run.stderr).to.equal(0);
    return (JSON.parse(run.stdout) as Array<{ name: string }>).map((e) => e.name);
  };
  // Deleting an environment in use is refused (see 'in use' below): these are left first.
  const start = (name: string) => createAndLeave(box, name);

  describe('NAME on a terminal asks first', () => {
    it('n deletes nothing and exits 0', async () => {
      start('demo');
      const { screen, status } = await onTerminal(box, ['clean', 'demo'], 'n');
      expect(screen).to.include(`Delete environment demo (${envPath('demo')})? [y/N]`);
      expect(screen).to.include('Nothing deleted.');
      expect(status).to.equal(0);
      expect(existsSync(join(envPath('demo'), 'pyvenv.cfg'))).to.equal(true);
      expect(listed()).to.deep.equal(['demo']);
    });

    it('y deletes the environment and its registry entry', async () => {
      start('demo');
      start('other');
      const { screen, status } = await onTerminal(box, ['clean', 'demo'], 'y');
      expect(screen).to.include('[y/N]');
      expect(screen).to.include(`removed demo (${envPath('demo')})`);
      expect(status).to.equal(0);
      expect(existsSync(envPath('demo'))).to.equal(false);
      expect(listed()).to.deep.equal(['other']);
    });
  });

  describe('NAME in use is refused with the way out', () => {
    it('while its daemon runs, and while a shell it recorded has it active; after kill it goes', () => {
      const started = throughFunction(box, ['start', 'demo']);
      expect(started.status, started.stderr).to.equal(0);
      const state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(started.script)![1]!;
      // A package directory linked to a checkout outside: removal deletes the link, not the checkout.
      const checkout = join(box.root, 'checkout');
      mkdirSync(checkout);
      writeFileSync(join(checkout, 'work.py'), 'precious = True\n');
      const site = join(envPath('demo'), 'lib');
      const py = readdirSync(site).find((d) => d.startsWith('python'))!;
      symlinkSync(checkout, join(site, py, 'site-packages', 'mywork'));

      for (const args of [
        ['clean', 'demo', '--yes'],
        ['clean', 'demo', '--dry-run'],
      ]) {
        const refused = blast(box, args);
        expect(refused.status, args.join(' ')).to.equal(4);
        expect(refused.stderr).to.include(
          'preRemove stopped by plugin @blast/daemon: demo is in use: its daemon runs',
        );
        expect(refused.stderr).to.include('Run `blast kill` in each shell where demo is active');
        expect(refused.stderr).not.to.match(/\n\s+at /);
        expect(existsSync(join(envPath('demo'), 'pyvenv.cfg'))).to.equal(true);
      }

      // The daemon killed: the shell it recorded (this test's process, which ran `start`) lives on.
      killDaemons(box);
      const stillActive = blast(box, ['clean', 'demo', '--yes']);
      expect(stillActive.status).to.equal(4);
      expect(stillActive.stderr).to.include(`demo is still active in the shell(s) with pid ${process.pid}`);
      expect(existsSync(join(envPath('demo'), 'pyvenv.cfg'))).to.equal(true);

      // The way out: kill in that shell, then clean.
      const killed = throughFunction(box, ['kill'], { env: { BLAST_SHELL_STATE: state } });
      expect(killed.status, killed.stderr).to.equal(0);
      const done = blast(box, ['clean', 'demo', '--yes']);
      expect(done.status, done.stderr).to.equal(0);
      expect(existsSync(envPath('demo'))).to.equal(false);
      expect(readFileSync(join(checkout, 'work.py'), 'utf8')).to.equal('precious = True\n');
    });
  });

  describe('a stale registry lock', () => {
    const lock = () => join(box.blastHome, 'state', 'registry.db.lock');
    /** The lock a Blast process killed two minutes ago left: nobody refreshes it any more. */
    function leaveStaleLock(): number {
      mkdirSync(lock());
      const then = new Date(Date.now() - 120_000);
      utimesSync(lock(), then, then);
      return statSync(lock()).mtimeMs;
    }

    it('--dry-run reports it, and the vanished environment behind it, and changes nothing', () => {
      start('demo');
      start('gone');
      rmSync(envPath('gone'), { recursive: true });
      const registry = join(box.blastHome, 'state', 'registry.db');
      const before = readFileSync(registry, 'utf8');
      const mtime = leaveStaleLock();

      const dry = blast(box, ['clean', '--dry-run']);
      expect(dry.status, dry.stderr).to.equal(0);
      expect(dry.stdout).to.match(
        /^would remove .*registry\.db\.lock: stale registry lock \(untouched for \d+ s/m,
      );
      expect(dry.stdout).to.match(/^would remove registry entry gone: .* no longer exists$/m);
      // Any locked access would have taken the stale lock over, and so removed it.
      expect(existsSync(lock())).to.equal(true);
      expect(statSync(lock()).mtimeMs).to.equal(mtime);
      expect(readFileSync(registry, 'utf8')).to.equal(before);

      const wet = blast(box, ['clean']);
      expect(wet.status, wet.stderr).to.equal(0);
      expect(wet.stdout).to.match(/^removed .*registry\.db\.lock: stale registry lock/m);
      expect(wet.stdout).to.match(/^removed registry entry gone/m);
      expect(existsSync(lock())).to.equal(false);
      expect(listed()).to.deep.equal(['demo']);
    });
  });
});
