/**
 * One daemon per user, serving every active environment (real CLI, real bash shells using the
 * real `blast` function, real processes): one process for several environments, which exits with
 * the last shell; kill -9 of it found by `check` for every environment and repaired by `check
 * --fix`; its socket closed to another user; one environment's hung recording holding up nothing
 * of another's; a per-environment daemon of an older Blast stopped by the first start and by
 * `check --fix`.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { living, readPidFile } from '../src/client.js';
import { listRevisions, ObjectStore } from '../../../test/support/core.js';
import { createAndLeave } from '../../../test/support/cli.js';
import {
  blast,
  daemonBox,
  daemonProcesses,
  daemonStatus,
  install,
  killDaemons,
  pathsOf,
  PLUGIN,
  sitePackages,
  startedShell,
  status,
  waitFor,
  type Box,
  type Shell,
} from './support.js';

interface CheckJson {
  checks: Array<{ name: string; status: string; message: string; env?: string; repaired?: boolean }>;
}

const envPath = (box: Box, name: string) => join(box.blastHome, 'envs', name);

describe('one daemon per user, several environments (real CLI, real bash, real processes)', function () {
  this.timeout(300_000);

  describe('four shells, four environments', () => {
    const names = ['e1', 'e2', 'e3', 'e4'];
    let box: Box;
    let shells: Shell[] = [];

    before(async () => {
      box = daemonBox();
      shells = [];
      await Promise.all(names.map((name) => startedShell(box, shells, name)));
    });
    after(() => {
      for (const s of shells) s.stop();
      killDaemons(box);
      box.cleanup();
    });

    const served = async () => {
      const s = await daemonStatus(pathsOf(box, 'e1'));
      return new Map(s.envs.map((e) => [e.env, e.attached]));
    };
    const shellOf = (name: string) => shells[names.indexOf(name)]!;

    it('one daemon process serves every environment, each with its shell; socket 0600 in a 0700 dir', async () => {
      const all = await waitFor('four environments served', async () => {
        const envs = await served();
        return envs.size === 4 ? envs : undefined;
      });
      for (const name of names) expect(all.get(envPath(box, name)), name).to.deep.equal([shellOf(name).pid]);
      await waitFor('one daemon process', () => daemonProcesses(box).length === 1, 30_000);
      const { pid } = await daemonStatus(pathsOf(box, 'e1'));
      expect(daemonProcesses(box)).to.deep.equal([pid]);
      const paths = pathsOf(box, 'e1');
      for (const name of names) expect(await shellOf(name).read('socket')).to.equal(paths.socket);
      expect(statSync(paths.runDir).mode & 0o777).to.equal(0o700);
      expect(statSync(paths.socket).mode & 0o777).to.equal(0o600);
      expect(statSync(paths.socket).isSocket()).to.equal(true);
    });

    it('another user cannot connect to it (EACCES), whatever the directory modes above it', () => {
      const paths = pathsOf(box, 'e1');
      chmodSync(box.root, 0o755);
      chmodSync(box.env.XDG_RUNTIME_DIR!, 0o755);
      const asNobody = () =>
        spawnSync(
          'setpriv',
          [
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            process.execPath,
            '-e',
            `require('net').connect(process.argv[1]).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`,
            paths.socket,
          ],
          { encoding: 'utf8', timeout: 20_000 },
        );
      const blockedByDir = asNobody();
      expect(blockedByDir.stdout.trim(), blockedByDir.stderr).to.equal('EACCES');
      chmodSync(paths.runDir, 0o711);
      try {
        const blockedBySocket = asNobody();
        expect(blockedBySocket.stdout.trim(), blockedBySocket.stderr).to.equal('EACCES');
      } finally {
        chmodSync(paths.runDir, 0o700);
      }
    });

    it('kill -9 of the daemon: check fails for every environment, check --fix gives them all a fresh daemon', async () => {
      const paths = pathsOf(box, 'e1');
      const old = await daemonStatus(paths);
      process.kill(old.pid, 'SIGKILL');
      await waitFor('dead', () => !living(old.pid));
      const checked = blast(box, ['check', '--json']);
      expect(checked.status).to.not.equal(0);
      const daemonChecks = (JSON.parse(checked.stdout) as CheckJson).checks.filter(
        (c) => c.name === 'daemon',
      );
      for (const name of names) {
        const mine = daemonChecks.find((c) => c.env === name);
        expect(mine, `${name}: ${checked.stdout}`).to.include({ status: 'fail' });
        expect(mine!.message).to.include(`stale: daemon pid ${old.pid} is dead`);
        expect(mine!.message).to.include(`shell(s) ${shellOf(name).pid} still active`);
      }
      const fixed = blast(box, ['check', '--fix', '--json']);
      expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
      const repaired = (JSON.parse(fixed.stdout) as CheckJson).checks.filter((c) => c.name === 'daemon');
      expect(repaired.filter((c) => c.repaired).map((c) => c.env)).to.have.members(names);
      const all = await waitFor('a fresh daemon serving all four', async () => {
        const envs = await served();
        return envs.size === 4 ? envs : undefined;
      });
      for (const name of names) expect(all.get(envPath(box, name)), name).to.deep.equal([shellOf(name).pid]);
      await waitFor('one daemon process', () => daemonProcesses(box).length === 1, 30_000);
      expect(daemonProcesses(box)[0]).to.not.equal(old.pid);
      expect(blast(box, ['check', '--json']).status).to.equal(0);
    });

    it('exits when the last shell leaves: a shell gone stops only its environment', async () => {
      const paths = pathsOf(box, 'e1');
      const { pid } = await daemonStatus(paths);
      for (const name of names.slice(0, 3)) {
        shellOf(name).stop();
        await waitFor(`${name} no longer served`, async () => !(await served()).has(envPath(box, name)));
        expect(living(pid), 'the daemon stays while a shell has an environment active').to.equal(true);
      }
      expect([...(await served()).keys()]).to.deep.equal([envPath(box, 'e4')]);
      shellOf('e4').stop();
      await waitFor('the daemon to exit', () => !living(pid), 30_000);
      expect(daemonProcesses(box)).to.deep.equal([]);
      expect(existsSync(paths.socket)).to.equal(false);
      expect(existsSync(paths.pidFile)).to.equal(false);
    });
  });

  describe('one environment hung', () => {
    let box: Box;
    let shells: Shell[] = [];
    let pause: string;

    before(async () => {
      box = daemonBox({ BLAST_DAEMON_RECORD_QUIET_MS: '300' });
      pause = join(box.root, 'paused');
      // Every `blast record` of `hung` (the daemon's way to record a revision) stops at its pause
      // point until the file goes; `ok`'s do not.
      box.env.BLAST_TEST_PAUSE_AT = 'record hung';
      box.env.BLAST_TEST_PAUSE_FILE = pause;
      shells = [];
      await Promise.all(['hung', 'ok'].map((name) => startedShell(box, shells, name)));
    });
    after(() => {
      rmSync(pause, { force: true });
      for (const s of shells) s.stop();
      killDaemons(box);
      box.cleanup();
    });

    it("a recording of one environment that hangs: another's changes are still recorded as revisions", async () => {
      const store = ObjectStore.of(box.env);
      const watched = (name: string, dist: string) =>
        listRevisions(store, envPath(box, name)).find((r) => r.change.added.includes(dist));
      await waitFor('both served', async () => (await daemonStatus(pathsOf(box, 'ok'))).envs.length === 2);
      install(sitePackages(envPath(box, 'hung')), 'stuck', '1.0');
      const recorder = Number(
        await waitFor(
          'the recording of hung to pause',
          () => existsSync(pause) && readFileSync(pause, 'utf8'),
          60_000,
        ),
      );
      expect(living(recorder)).to.equal(true);

      install(sitePackages(envPath(box, 'ok')), 'flows', '1.0');
      const rev = await waitFor('a revision of ok', () => watched('ok', 'flows 1.0'), 60_000);
      expect(rev.source).to.equal('watch');
      expect((await status(pathsOf(box, 'ok'))).changes).to.be.greaterThan(0);
      // Meanwhile hung's recording still waits, and nothing of it was recorded.
      expect(existsSync(pause) && living(recorder)).to.equal(true);
      expect(watched('hung', 'stuck 1.0')).to.equal(undefined);

      rmSync(pause);
      const late = await waitFor('the revision of hung', () => watched('hung', 'stuck 1.0'), 60_000);
      expect(late.source).to.equal('watch');
    });
  });

  describe('a change while the daemon opens a new environment', () => {
    let box: Box;
    let shells: Shell[] = [];
    let hold: string;

    before(() => {
      box = daemonBox({ BLAST_DAEMON_RECORD_QUIET_MS: '300' });
      hold = join(box.root, 'hold-open');
      writeFileSync(hold, '');
      // The daemon stops between watching the environment and its first look at it.
      box.env.BLAST_DAEMON_TEST_HOLD_OPEN = hold;
      shells = [];
    });
    after(() => {
      rmSync(hold, { force: true });
      for (const s of shells) s.stop();
      killDaemons(box);
      box.cleanup();
    });

    it('is recorded as a revision, though the first look has nothing to compare it with', async () => {
      const started = startedShell(box, shells, 'young');
      await waitFor('the daemon to hold', () => readFileSync(hold, 'utf8') !== '', 60_000);
      install(sitePackages(envPath(box, 'young')), 'early', '1.0');
      rmSync(hold);
      await started;
      const store = ObjectStore.of(box.env);
      const rev = await waitFor(
        'a revision with early 1.0',
        () => listRevisions(store, envPath(box, 'young')).find((r) => r.change.added.includes('early 1.0')),
        60_000,
      );
      expect(rev.source).to.equal('watch');
    });
  });

  describe('a per-environment daemon of an older Blast still running after the upgrade', () => {
    let box: Box;
    let shells: Shell[] = [];
    let procs: ChildProcess[] = [];
    /** A stand-in for the old daemon: what the new code relies on to find and stop one (see there). */
    const oldMain = join(PLUGIN, 'test', 'fixtures', 'old', 'daemon', 'main.js');

    beforeEach(() => {
      box = daemonBox();
      shells = [];
      procs = [];
      createAndLeave(box, 'legacy');
    });
    afterEach(() => {
      for (const s of shells) s.stop();
      for (const p of procs) p.kill('SIGKILL');
      killDaemons(box);
      box.cleanup();
    });

    /** The old daemon, as the old plugin started it, serving `legacy` for a shell of its own. */
    const startOld = async () => {
      const shell = spawn('sleep', ['1000'], { stdio: 'ignore' });
      procs.push(shell);
      const child = spawn(
        process.execPath,
        [oldMain, envPath(box, 'legacy'), '--attach', String(shell.pid)],
        {
          env: box.env,
          stdio: 'ignore',
          detached: true,
        },
      );
      child.unref();
      const paths = pathsOf(box, 'legacy');
      const pid = await waitFor('the old daemon', () => readPidFile(paths.oldPidFile)?.pid || undefined);
      const socket = join(box.runDir, `d-${paths.stateDir.split('/').pop()}.sock`);
      await waitFor('its socket', () => existsSync(socket));
      return { pid, socket, shell: shell.pid! };
    };

    it('the first blast start stops it (SIGTERM), removes its files and serves its environment and shells', async () => {
      const old = await startOld();
      const paths = pathsOf(box, 'legacy');
      const other = await startedShell(box, shells, 'other');
      await waitFor('the old daemon gone', () => !living(old.pid), 60_000);
      const s = await waitFor('legacy served by the shared daemon', () => status(paths), 60_000);
      expect(s.attached).to.deep.equal([old.shell]);
      expect(existsSync(old.socket)).to.equal(false);
      expect(existsSync(paths.oldPidFile)).to.equal(false);
      // Stopped cleanly: it recorded its final state (a SIGKILL would not have).
      expect(readFileSync(paths.db, 'utf8')).to.include('"why":"signal SIGTERM"');
      expect((await status(pathsOf(box, 'other'))).attached).to.deep.equal([other.pid]);
      expect(daemonProcesses(box)).to.deep.equal([s.pid]);
    });

    it('check warns about it; check --fix stops it and the shared daemon serves its environment', async () => {
      await startedShell(box, shells, 'other');
      const running = await waitFor('the shared daemon', () => status(pathsOf(box, 'other')));
      const old = await startOld();
      const checked = JSON.parse(blast(box, ['check', '--json']).stdout) as CheckJson;
      const warned = checked.checks.find(
        (c) => c.name === 'daemon' && c.env === 'legacy' && c.status === 'warn',
      );
      expect(warned?.message, JSON.stringify(checked.checks)).to.include(
        `a per-environment daemon of an older Blast still runs for it (pid ${old.pid})`,
      );
      expect(living(old.pid), 'check alone stops nothing').to.equal(true);
      const fixed = blast(box, ['check', '--fix', '--json']);
      expect(fixed.status, fixed.stdout + fixed.stderr).to.equal(0);
      expect(living(old.pid)).to.equal(false);
      const s = await waitFor('legacy served', () => status(pathsOf(box, 'legacy')), 30_000);
      expect(s.pid).to.equal(running.pid);
      expect(s.attached).to.deep.equal([old.shell]);
      expect(existsSync(old.socket)).to.equal(false);
      expect(daemonProcesses(box)).to.deep.equal([running.pid]);
    });
  });
});
