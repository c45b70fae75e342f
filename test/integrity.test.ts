/**
 * The store's integrity through the real CLI (issue 11): a write into an environment's file in
 * place (`>>`, an editor saving in place) must not come back from a snapshot as if it were the
 * snapshot's; an object damaged in the store (truncated, garbage) is refused, never restored;
 * `blast check --deep` names what can no longer be restored exactly. In every link mode, as root
 * and as an unprivileged user.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { killDaemons } from '../plugins/daemon/test/support.js';
import { BIN, blast, type Run, sandbox, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';
import { tree, treeDiff } from './store/world.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const ORIGINAL = "VALUE = 'acme 1.0 works'\n";
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

interface World {
  box: Sandbox;
  envPath: string;
  /** The environment's acme/__init__.py. */
  init: string;
  run(args: string[]): Run;
  ok(args: string[]): Run;
  pip(...args: string[]): string;
  /** The store's object of acme/__init__.py as it was installed. */
  object: string;
  cleanup(): void;
}

/**
 * A sandbox whose `demo` environment has acme 1.0 installed and saved as `s1`, with
 * BLAST_LINK_MODE=`mode`; `asNobody` runs everything (blast, pip, the writes) as nobody.
 *
 * Built once per link mode and user (a start, a pip install and a save: most of a test's time),
 * kept aside, and copied back for every further test to the very same path, so every absolute
 * path in it (the venv's, the registry's, the store's) still holds. `cp -a` keeps hard links
 * between the files it copies (an object and the environment file it is linked to stay one inode),
 * modes, owners and mtimes (the store's seals are size and mtime): each test gets the state a
 * fresh build gives, and changes only its own copy.
 */
function world(mode: string, asNobody = false): World {
  const key = `${mode}${asNobody ? ' as nobody' : ''}`;
  const built = worlds.get(key);
  if (!built) {
    const w = buildWorld(mode, asNobody);
    const template = `${w.box.root} template`;
    execFileSync('cp', ['-a', '--', w.box.root, template]);
    worlds.set(key, { world: w, template });
    return w;
  }
  rmSync(built.world.box.root, { recursive: true, force: true });
  execFileSync('cp', ['-a', '--', built.template, built.world.box.root]);
  return built.world;
}

const worlds = new Map<string, { world: World; template: string }>();

function buildWorld(mode: string, asNobody: boolean): World {
  const box = sandbox({ BLAST_LINK_MODE: mode });
  if (asNobody) {
    // Nobody's own cache, and the whole sandbox theirs.
    box.env.BLAST_CACHE_DIR = join(box.root, 'cache');
    mkdirSync(box.env.BLAST_CACHE_DIR);
    // Root's own tools (pyenv, cargo) are behind /root, closed to nobody.
    box.env.PATH = '/usr/local/bin:/usr/bin:/bin';
  }
  const wheels = join(box.root, 'wheels');
  mkdirSync(wheels);
  const script = join(box.root, 'start.sh');
  writeFileSync(script, '');
  if (asNobody) chownTree(box.root);
  const spawnAs = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
    asNobody
      ? spawnSync('setpriv', [...NOBODY, file, ...args], { env, encoding: 'utf8', cwd: box.home })
      : spawnSync(file, args, { env, encoding: 'utf8', cwd: box.home });
  const run = (args: string[], env: Record<string, string> = {}): Run => {
    const r = spawnAs(process.execPath, [BIN, ...args], { ...box.env, ...env });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? 128 };
  };
  const ok = (args: string[]) => {
    const r = run(args);
    expect(r.status, `blast ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r;
  };
  const start = run(['start', 'demo', ...(asNobody ? ['--python', '/usr/bin/python3.11'] : [])], {
    BLAST_SHELL: 'bash',
    BLAST_SHELL_SCRIPT: script,
    BLAST_SHELL_PID: String(process.pid),
  });
  expect(start.status, start.stderr).to.equal(0);
  // No daemon: its `blast record` would snapshot the environment behind the test's back.
  killDaemons(box);
  const envPath = join(box.blastHome, 'envs', 'demo');
  const python = join(envPath, 'bin', 'python');
  buildWheel(python, wheels, 'acme', '1.0', { files: { 'acme/data.txt': 'payload\n', 'acme/empty.py': '' } });
  if (asNobody) chownTree(wheels);
  const pipEnv = isolatedPipEnv(box.env);
  const pip = (...args: string[]) => {
    const r = spawnAs(
      join(envPath, 'bin', 'pip'),
      [...args, ...(args[0] === 'install' ? ['--no-index', '--find-links', wheels] : [])],
      pipEnv,
    );
    expect(r.status, `pip ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r.stdout;
  };
  pip('install', 'acme==1.0');
  const init = join(
    envPath,
    'lib',
    readdirSync(join(envPath, 'lib'))[0]!,
    'site-packages',
    'acme',
    '__init__.py',
  );
  expect(readFileSync(init, 'utf8')).to.equal(ORIGINAL);
  ok(['save', '--env', 'demo', 's1']);
  const object = join(box.blastHome, 'store', 'objects', sha(ORIGINAL).slice(0, 2), `${sha(ORIGINAL)}-644`);
  expect(existsSync(object), 'the object of acme/__init__.py').to.equal(true);
  return { box, envPath, init, run, ok, pip, object, cleanup: () => box.cleanup() };
}

function chownTree(dir: string): void {
  chownSync(dir, 65534, 65534);
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      chownSync(join(dir, name), 65534, 65534);
    } catch {
      // a symbolic link to somewhere else
    }
  }
}

/** `echo x >> FILE`: a write into the file's inode, as `>>`, vim's backupcopy=auto and others do. */
function appendInPlace(w: World, file: string, asNobody = false): void {
  const args = ['-c', 'echo x >> "$1"', 'sh', file];
  const r = asNobody ? spawnSync('setpriv', [...NOBODY, 'sh', ...args]) : spawnSync('sh', args);
  expect(r.status, String(r.stderr)).to.equal(0);
  expect(readFileSync(file, 'utf8')).to.equal(`${ORIGINAL}x\n`);
}

type Deep = {
  ok: boolean;
  checks: Array<{ name: string; status: string; env?: string; message: string; repaired?: boolean }>;
  deep: {
    objects: number;
    unrestorable: Array<{ env: string; what: string; files: Array<{ path: string }> }>;
  };
};

function deepCheck(w: World, ...more: string[]): { status: number; out: Deep } {
  const r = w.run(['check', '--deep', '--json', ...more]);
  return { status: r.status, out: JSON.parse(r.stdout) as Deep };
}

/** A refusal: exit 1, a clear message naming the file and the snapshot, no stack, nothing changed. */
function expectRefused(w: World, args: string[], before: Record<string, string>, what: RegExp): Run {
  const r = w.run(args);
  expect(r.status, r.stderr).to.equal(1);
  expect(r.stderr).to.match(what);
  expect(r.stderr).to.match(/acme\/__init__\.py/);
  expect(r.stderr).to.match(/cannot be restored exactly/);
  expect(r.stderr).to.match(/blast load --lock|check --deep/);
  expect(r.stderr).not.to.match(/\n\s+at /);
  expect(treeDiff(tree(w.envPath), before), 'nothing changed').to.deep.equal([]);
  return r;
}

describe('store integrity (link modes, seals, check --deep)', function () {
  this.timeout(300_000);
  after(() => {
    for (const { world: w, template } of worlds.values()) {
      w.cleanup();
      rmSync(template, { recursive: true, force: true });
    }
  });

  describe('a write in place into an environment file after `blast save s1`, then `blast load s1`', () => {
    it('copy: the environment never shares the store inode, so s1 gives back its original bytes', () => {
      const w = world('copy');
      try {
        expect(statSync(w.init).ino, 'an independent inode').to.not.equal(statSync(w.object).ino);
        appendInPlace(w, w.init);
        expect(readFileSync(w.object, 'utf8'), 'the store is untouched').to.equal(ORIGINAL);
        expect(w.ok(['load', '--env', 'demo', 's1']).stdout).to.match(/^Restored s1 into demo/);
        expect(readFileSync(w.init, 'utf8')).to.equal(ORIGINAL);
        expect(statSync(w.init).ino).to.not.equal(statSync(w.object).ino);
        expect(deepCheck(w).status, 'nothing to report').to.equal(0);
      } finally {
        w.cleanup();
      }
    });

    it('clone where the file system cannot clone (ext4): copies, as copy does, and check says so', () => {
      const w = world('clone');
      try {
        appendInPlace(w, w.init);
        w.ok(['load', '--env', 'demo', 's1']);
        expect(readFileSync(w.init, 'utf8')).to.equal(ORIGINAL);
        const check = JSON.parse(w.run(['check', '--json']).stdout) as Deep;
        const mode = check.checks.find((c) => c.name === 'link mode');
        expect(mode?.status).to.equal('warn');
        expect(mode?.message).to.match(/^clone: this file system cannot clone .*copied instead/);
      } finally {
        w.cleanup();
      }
    });

    for (const mode of ['hardlink', 'auto']) {
      it(`${mode} (shared inode): the damage is found and the load refused, changing nothing; check --deep names s1; a new save stores the edited bytes`, () => {
        const w = world(mode);
        try {
          expect(statSync(w.init).ino, 'hard-linked').to.equal(statSync(w.object).ino);
          const check = JSON.parse(w.run(['check', '--json']).stdout) as Deep;
          expect(check.checks.find((c) => c.name === 'link mode')?.message).to.match(
            mode === 'auto' ? /^auto: hardlink, as this file system cannot clone/ : /^hardlink: /,
          );
          appendInPlace(w, w.init);
          const before = tree(w.envPath);
          expectRefused(w, ['load', '--env', 'demo', 's1'], before, /Snapshot s1 of demo/);
          // Found again, not restored, on every later try; the damaged bytes kept aside.
          expectRefused(w, ['load', '--env', 'demo', 's1'], before, /Snapshot s1 of demo/);
          const quarantine = join(w.box.blastHome, 'store', 'quarantine');
          expect(readdirSync(quarantine).map((n) => readFileSync(join(quarantine, n), 'utf8'))).to.deep.equal(
            [`${ORIGINAL}x\n`],
          );
          const deep = deepCheck(w);
          expect(deep.status).to.equal(5);
          const named = deep.out.checks.find((c) => c.name === 'snapshots restorable' && c.status === 'fail');
          expect(named?.env).to.equal('demo');
          expect(named?.message).to.match(
            /^snapshot s1 can no longer be restored exactly: .*acme\/__init__\.py/,
          );
          expect(deep.out.deep.unrestorable.map((u) => u.what)).to.deep.equal(['snapshot s1']);
          // The edited file is what a later snapshot has, under its own (right) hash.
          w.ok(['save', '--env', 'demo', 's2']);
          w.pip('uninstall', '-y', 'acme');
          w.ok(['load', '--env', 'demo', 's2']);
          expect(readFileSync(w.init, 'utf8')).to.equal(`${ORIGINAL}x\n`);
          // Reinstalled (pip writes a new inode), saved again: the original bytes are whole once more.
          w.pip('install', '--force-reinstall', 'acme==1.0');
          w.ok(['save', '--env', 'demo', 's3']);
          w.pip('uninstall', '-y', 'acme');
          w.ok(['load', '--env', 'demo', 's3']);
          expect(readFileSync(w.init, 'utf8')).to.equal(ORIGINAL);
        } finally {
          w.cleanup();
        }
      });
    }

    it('hardlink: an empty file is never a shared inode, so `>>` into one is undone by the load', () => {
      const w = world('hardlink');
      try {
        const empty = join(w.init, '..', 'empty.py');
        expect(statSync(empty).nlink, 'not linked into the store').to.equal(1);
        const r = spawnSync('sh', ['-c', 'echo x >> "$1"', 'sh', empty]);
        expect(r.status).to.equal(0);
        expect(w.ok(['load', '--env', 'demo', 's1']).stdout).to.match(/^Restored s1 into demo/);
        expect(readFileSync(empty, 'utf8')).to.equal('');
        expect(deepCheck(w).status).to.equal(0);
      } finally {
        w.cleanup();
      }
    });

    it("hardlink: a chmod of the hard-linked file (the object's mode too) is undone by the load", () => {
      const w = world('hardlink');
      try {
        chmodSync(w.init, 0o755);
        expect(w.ok(['load', '--env', 'demo', 's1']).stdout).to.match(/^Restored s1 into demo/);
        expect(statSync(w.init).mode & 0o7777).to.equal(0o644);
        expect(readFileSync(w.init, 'utf8')).to.equal(ORIGINAL);
        expect(statSync(w.object).mode & 0o7777, 'the object has its own mode again').to.equal(0o644);
        const dd = deepCheck(w);
        expect(dd.status, JSON.stringify(dd.out.checks.filter((c) => c.status !== 'ok'))).to.equal(0);
      } finally {
        w.cleanup();
      }
    });

    it('hardlink, as an unprivileged user (nobody): found and refused the same way', function () {
      if (process.getuid?.() !== 0 || spawnSync('id', ['nobody']).status !== 0) this.skip();
      const w = world('hardlink', true);
      try {
        expect(statSync(w.object).uid).to.equal(65534);
        appendInPlace(w, w.init, true);
        expectRefused(w, ['load', '--env', 'demo', 's1'], tree(w.envPath), /Snapshot s1 of demo/);
        const deep = deepCheck(w);
        expect(deep.status).to.equal(5);
        expect(deep.out.deep.unrestorable.map((u) => u.what)).to.deep.equal(['snapshot s1']);
      } finally {
        w.cleanup();
      }
    });

    it('copy, as an unprivileged user (nobody): s1 gives back its original bytes', function () {
      if (process.getuid?.() !== 0 || spawnSync('id', ['nobody']).status !== 0) this.skip();
      const w = world('copy', true);
      try {
        appendInPlace(w, w.init, true);
        w.ok(['load', '--env', 'demo', 's1']);
        expect(readFileSync(w.init, 'utf8')).to.equal(ORIGINAL);
      } finally {
        w.cleanup();
      }
    });
  });

  for (const mode of ['hardlink', 'copy']) {
    describe(`an object damaged in the store (${mode})`, () => {
      const damages: Array<[string, (file: string) => void]> = [
        ['truncated', (file) => truncateSync(file, 5)],
        ['garbage of the same size', (file) => writeFileSync(file, 'z'.repeat(ORIGINAL.length))],
      ];
      for (const [how, damage] of damages) {
        it(`${how}: refused by load (nothing changed), named by check --deep, quarantined by --fix`, () => {
          const w = world(mode);
          try {
            // Uninstalled, so the load must bring the object back; pip's reinstall keeps the env apart.
            w.pip('uninstall', '-y', 'acme');
            damage(w.object);
            const before = tree(w.envPath);
            expectRefused(w, ['load', '--env', 'demo', 's1'], before, /Snapshot s1 of demo/);
            expect(existsSync(w.init)).to.equal(false);
            const deep = deepCheck(w);
            expect(deep.status).to.equal(5);
            expect(deep.out.deep.unrestorable).to.have.length(1);
            expect(deep.out.deep.unrestorable[0]).to.include({ env: w.envPath, what: 'snapshot s1' });
          } finally {
            w.cleanup();
          }
        });
      }

      it('garbage with its mtime put back (tampering the seal misses): check --deep finds it, --fix quarantines it', () => {
        const w = world(mode);
        try {
          w.pip('uninstall', '-y', 'acme');
          const st = statSync(w.object);
          writeFileSync(w.object, 'z'.repeat(ORIGINAL.length));
          utimesSync(w.object, st.atime, st.mtime);
          // Record a revision that has the object too: both are named.
          const deep = deepCheck(w);
          expect(deep.status).to.equal(5);
          const intact = deep.out.checks.find((c) => c.name === 'store objects intact');
          expect(intact?.status).to.equal('fail');
          expect(intact?.message).to.include(w.object);
          expect(deep.out.deep.unrestorable.map((u) => u.what)).to.deep.equal(['snapshot s1']);
          const fixed = deepCheck(w, '--fix');
          expect(fixed.out.checks.find((c) => c.name === 'store objects intact')?.repaired).to.equal(true);
          expect(fixed.status, 'still not restorable exactly').to.equal(5);
          expect(existsSync(w.object)).to.equal(false);
          // Now refused by load too, naming it as damaged.
          expectRefused(w, ['load', '--env', 'demo', 's1'], tree(w.envPath), /Snapshot s1 of demo/);
        } finally {
          w.cleanup();
        }
      });

      it('a later save of intact bytes does not take the damaged object as "already stored"', () => {
        const w = world(mode);
        try {
          // pip writes a new inode with the original bytes; then the stored copy is damaged.
          w.pip('install', '--force-reinstall', 'acme==1.0');
          expect(statSync(w.init).ino).to.not.equal(statSync(w.object).ino);
          appendFileSync(w.object, 'garbage\n');
          w.ok(['save', '--env', 'demo', 's2']);
          expect(readFileSync(w.object, 'utf8'), 'stored again, whole').to.equal(ORIGINAL);
          w.pip('uninstall', '-y', 'acme');
          w.ok(['load', '--env', 'demo', 's2']);
          expect(readFileSync(w.init, 'utf8')).to.equal(ORIGINAL);
          expect(
            execFileSync(join(w.envPath, 'bin', 'python'), ['-c', 'import acme; print(acme.VALUE)'], {
              encoding: 'utf8',
            }),
          ).to.equal('acme 1.0 works\n');
        } finally {
          w.cleanup();
        }
      });
    });
  }

  it('an unknown BLAST_LINK_MODE is a clear error, and check names it', () => {
    const box = sandbox({ BLAST_LINK_MODE: 'symlink' });
    try {
      const r = blast(box, ['load', '--env', 'demo', '--list']);
      const check = JSON.parse(blast(box, ['check', '--json']).stdout) as Deep;
      const mode = check.checks.find((c) => c.name === 'link mode');
      expect(mode?.status).to.equal('fail');
      expect(mode?.message).to.match(/BLAST_LINK_MODE="symlink" is not a link mode/);
      expect(r.stderr).not.to.match(/\n\s+at /);
    } finally {
      box.cleanup();
    }
  });
});
