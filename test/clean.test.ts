/** `blast clean` through the real CLI: the question it asks on a terminal, and the registry's stale lock. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';

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
  const start = (name: string) => expect(throughFunction(box, ['start', name]).status).to.equal(0);

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
