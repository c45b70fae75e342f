/**
 * Never run code from data, never show secrets to others (issue 12), through the real CLI: names
 * that cannot be shown honestly, `--env` values readable only by their owner, a runtime dir
 * another user planted.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { supportedByVersion } from './python/world.js';
import { BIN, blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('secrets and look-alikes (real CLI)', function () {
  this.timeout(180_000);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  const envPath = (name: string) => join(box.blastHome, 'envs', name);

  describe('names that cannot be shown honestly', () => {
    const invisible: Array<[string, string]> = [
      ['zero-width space', 'de\u200bmo'],
      ['zero-width joiner', 'de\u200dmo'],
      ['right-to-left mark', 'demo\u200f'],
      ['word joiner', 'de\u2060mo'],
      ['byte order mark', '\ufeffdemo'],
      ['right-to-left override', 'demo\u202egnp.exe'],
      ['left-to-right isolate', 'de\u2066mo\u2069'],
      ['soft hyphen (Cf)', 'de\u00admo'],
    ];
    for (const [what, name] of invisible) {
      it(`refuses a ${what} in an environment name, naming the code point, and creates nothing`, () => {
        const run = throughFunction(box, ['start', name]);
        expect(run.status, run.stderr).to.equal(2);
        const cp = `U+${name
          .match(/[\u00ad\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069]/u)![0]
          .codePointAt(0)!
          .toString(16)
          .toUpperCase()
          .padStart(4, '0')}`;
        expect(run.stderr).to.include(cp);
        expect(run.stderr).to.include('would not print as what it is');
        expect(run.stderr).to.include('Use visible letters');
        expect(existsSync(join(box.blastHome, 'envs')), 'nothing created').to.equal(false);
      });
    }

    it('refuses a name that is not valid UTF-8 (it arrives as U+FFFD) and says so', () => {
      // Bytes no UTF-8 decoder accepts, passed as argv by a real shell.
      writeFileSync(join(box.root, 'script'), '');
      const run = spawnSync(
        'bash',
        ['-c', `exec "$0" "$1" start "$(printf 'caf\\351')"`, process.execPath, BIN],
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
      expect(run.status, run.stderr).to.equal(2);
      expect(run.stderr).to.include('not valid UTF-8');
    });

    it('refuses creating Demo beside demo (one folder on a case-insensitive file system), with the way out', () => {
      expect(throughFunction(box, ['start', 'demo']).status).to.equal(0);
      for (const name of ['Demo', 'DEMO']) {
        const run = throughFunction(box, ['start', name]);
        expect(run.status, run.stderr).to.equal(2);
        expect(run.stderr).to.include(`Cannot create "${name}": an environment "demo" exists`);
        expect(run.stderr).to.include('blast start demo');
      }
      // Precomposed beside decomposed: they look the same and are different strings.
      expect(throughFunction(box, ['start', 'caf\u00e9']).status).to.equal(0);
      const run = throughFunction(box, ['start', 'cafe\u0301']);
      expect(run.status, run.stderr).to.equal(2);
      expect(run.stderr).to.include('differ only in case or Unicode form');
      expect(readdirSync(join(box.blastHome, 'envs')).sort()).to.deep.equal(['caf\u00e9', 'demo']);
      // The existing one still starts.
      expect(throughFunction(box, ['start', 'demo']).status).to.equal(0);
    });
  });

  describe('--env values are readable only by their owner', () => {
    it('blast.json, snapshots and revisions are 0600 in 0700 folders, whatever the umask', async () => {
      const run = throughFunction(box, ['start', 'demo', '--env', 'SECRET=hunter2']);
      expect(run.status, run.stderr).to.equal(0);
      expect(modeOf(join(envPath('demo'), 'blast.json'))).to.equal('600');
      // Rewritten by a later start with a new value: still 0600.
      expect(throughFunction(box, ['start', 'demo', '--env', 'SECRET=hunter3']).status).to.equal(0);
      expect(modeOf(join(envPath('demo'), 'blast.json'))).to.equal('600');
      const saved = blast(box, ['save', 'snap', '--env', 'demo']);
      expect(saved.status, saved.stderr).to.equal(0);
      const snapshots = join(box.blastHome, 'store', 'snapshots');
      expect(modeOf(snapshots)).to.equal('700');
      const [hash] = readdirSync(snapshots);
      expect(modeOf(join(snapshots, hash!))).to.equal('700');
      expect(modeOf(join(snapshots, hash!, 'snap.json'))).to.equal('600');
      // A pip install in the environment records a revision.
      const py = (await supportedByVersion()).at(-1)!;
      const wheels = join(box.root, 'wheels');
      mkdirSync(wheels);
      buildWheel(py.executable, wheels, 'tinypkg', '1.0');
      const pipEnv = { ...(isolatedPipEnv(box.env) as Record<string, string>), VIRTUAL_ENV: envPath('demo') };
      const pip = blast(box, ['pip', '--', 'install', '--no-index', '--find-links', wheels, 'tinypkg'], {
        env: pipEnv,
      });
      expect(pip.status, pip.stderr).to.equal(0);
      const revisions = join(box.blastHome, 'store', 'revisions');
      const dirs = [revisions, join(revisions, readdirSync(revisions)[0]!)];
      for (const dir of dirs) expect(modeOf(dir), dir).to.equal('700');
      const files = readdirSync(dirs[1]!).filter((f) => f.endsWith('.json'));
      expect(files).to.include('index.json');
      for (const file of files) expect(modeOf(join(dirs[1]!, file)), file).to.equal('600');
      // A lock export is the user's own file: their umask decides.
      const lock = join(box.root, 'requirements.txt');
      const locked = blast(box, ['save', '--lock', lock, '--env', 'demo'], {
        env: { ...pipEnv, VIRTUAL_ENV: '', PIP_NO_INDEX: '1', PIP_FIND_LINKS: pathToFileURL(wheels).href },
      });
      expect(locked.status, locked.stderr).to.equal(0);
      expect(modeOf(lock)).to.equal((0o666 & ~process.umask()).toString(8));
    });

    it('blast check warns of an older install whose files others can read, and --fix closes them', () => {
      expect(throughFunction(box, ['start', 'demo', '--env', 'SECRET=hunter2']).status).to.equal(0);
      expect(blast(box, ['save', 'snap', '--env', 'demo']).status).to.equal(0);
      const snapshots = join(box.blastHome, 'store', 'snapshots');
      const [hash] = readdirSync(snapshots);
      // As Blast wrote them before.
      chmodSync(join(envPath('demo'), 'blast.json'), 0o644);
      chmodSync(snapshots, 0o755);
      chmodSync(join(snapshots, hash!, 'snap.json'), 0o644);
      const warned = blast(box, ['check']);
      expect(warned.stdout).to.match(
        /^warn\s+values private\s+3 file\(s\) or folder\(s\) that can hold your --env values are open to other users/m,
      );
      expect(warned.stdout).to.include('--fix: make them readable only by you');
      const fixed = blast(box, ['check', '--fix']);
      expect(fixed.stdout).to.match(/^fixed\s+values private/m);
      expect(modeOf(join(envPath('demo'), 'blast.json'))).to.equal('600');
      expect(modeOf(snapshots)).to.equal('700');
      expect(modeOf(join(snapshots, hash!, 'snap.json'))).to.equal('600');
      expect(blast(box, ['check']).stdout).to.match(/^ok\s+values private/m);
    });
  });

  describe('a large --env value leaves the shell usable', () => {
    /** `script` run by a real bash that has the `blast` shell function. */
    const inBash = (script: string) => {
      const init = blast(box, ['init', 'bash']);
      expect(init.status, init.stderr).to.equal(0);
      const file = join(box.root, 'init.bash');
      writeFileSync(file, init.stdout);
      const run = spawnSync('bash', ['--norc', '--noprofile', '-c', `source "$0"\n${script}`, file], {
        cwd: box.root,
        env: box.env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { status: run.status, stdout: run.stdout, stderr: run.stderr };
    };

    it('a 98 KB value: ls still runs while active, kill restores, the state stays small', () => {
      const run = inBash(
        [
          'blast start big --env BIG="$(head -c 100352 /dev/zero | tr "\\0" x)" || exit 10',
          'printf "state %s\\n" "${#BLAST_SHELL_STATE}"',
          'printf "big %s\\n" "${#BIG}"',
          'ls / >/dev/null || exit 11',
          'blast kill || exit 12',
          'printf "after %s\\n" "${BIG-unset}"',
          'ls / >/dev/null || exit 13',
        ].join('\n'),
      );
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.include('big 100352');
      const state = Number(/^state (\d+)$/m.exec(run.stdout)?.[1]);
      expect(state).to.be.lessThan(8192);
      expect(run.stdout).to.include('after unset');
      expect(run.stderr).not.to.include('Argument list too long');
    });

    it('refuses what cannot fit with the way out, and the shell goes on', () => {
      const run = inBash(
        [
          // The shell's own long value, which Blast would have to keep to give it back on kill.
          'blast start big && blast kill || exit 10',
          'export MINE="$(head -c 100000 /dev/zero | tr "\\0" y)"',
          'blast start big --env MINE=small; printf "own %s\\n" "$?"',
          'printf "kept %s\\n" "${#MINE}"',
          'ls / >/dev/null || exit 11',
          'unset MINE',
          // Too long together: six values of 100 KB.
          'set --; for i in 1 2 3 4 5 6; do set -- "$@" --env "V$i=$(head -c 100000 /dev/zero | tr "\\0" z)"; done',
          'blast start big "$@"; printf "total %s\\n" "$?"',
          'printf "active %s\\n" "${BLAST_ENV-none}"',
          'ls / >/dev/null || exit 12',
        ].join('\n'),
      );
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.include('own 2');
      expect(run.stdout).to.include('kept 100000');
      expect(run.stderr).to.include("This shell's own values of MINE are too long for Blast to keep");
      expect(run.stderr).to.include('Unset or shorten MINE in this shell first');
      expect(run.stdout).to.include('total 2');
      expect(run.stderr).to.match(
        /The environment's variables take \d+ bytes together, more than the 524288/,
      );
      expect(run.stderr).to.include('blast start big --unset-env V1 --unset-env V2');
      expect(run.stdout).to.include('active none');
      // Nothing was stored: not MINE=small, not the six values.
      const config = JSON.parse(readFileSync(join(envPath('big'), 'blast.json'), 'utf8')) as {
        variables: Record<string, string>;
      };
      expect(config.variables).to.deep.equal({});
      expect(run.stderr).not.to.include('Argument list too long');
    });
  });

  describe('a runtime dir another user planted (no XDG_RUNTIME_DIR)', () => {
    const uid = process.getuid?.() ?? 0;
    let tmp: string;
    let runDir: string;
    const start = () =>
      throughFunction(box, ['start', 'demo'], { env: { XDG_RUNTIME_DIR: '', TMPDIR: tmp } });
    beforeEach(() => {
      tmp = join(box.root, 'tmp');
      mkdirSync(tmp);
      chmodSync(tmp, 0o1777);
      runDir = join(tmp, `blast-${uid}`);
    });

    it('refuses a symbolic link, even to a 0700 directory of ours, and puts no socket there', () => {
      const theirs = join(box.root, 'theirs');
      mkdirSync(theirs, { mode: 0o700 });
      symlinkSync(theirs, runDir);
      const run = start();
      expect(run.status, run.stderr).not.to.equal(0);
      expect(run.stderr).to.include(`the runtime dir ${runDir} is a symbolic link to ${theirs}`);
      expect(run.stderr).to.include('set XDG_RUNTIME_DIR to a directory only you can enter');
      expect(run.stderr).not.to.match(/\n\s+at /); // no stack trace
      expect(readdirSync(theirs)).to.deep.equal([]);
    });

    it('refuses a directory another user owns, saying whose it is', () => {
      mkdirSync(runDir, { mode: 0o700 });
      chownSync(runDir, 65534, 65534);
      const run = start();
      expect(run.status, run.stderr).not.to.equal(0);
      expect(run.stderr).to.include(`belongs to uid 65534, not to you (uid ${uid})`);
      expect(run.stderr).to.include('XDG_RUNTIME_DIR');
    });

    it('refuses a directory of ours that others may enter, and says how to close it', () => {
      mkdirSync(runDir);
      chmodSync(runDir, 0o777);
      const run = start();
      expect(run.status, run.stderr).not.to.equal(0);
      expect(run.stderr).to.include(`is open to other users (mode 777)`);
      expect(run.stderr).to.include(`chmod 700 ${runDir}`);
      // The way out works; a missing one is created 0700.
      chmodSync(runDir, 0o700);
      expect(start().status).to.equal(0);
      rmSync(runDir, { recursive: true, force: true });
      const again = throughFunction(box, ['start', 'demo'], { env: { XDG_RUNTIME_DIR: '', TMPDIR: tmp } });
      expect(again.status, again.stderr).to.equal(0);
      expect(modeOf(runDir)).to.equal('700');
    });
  });
});
