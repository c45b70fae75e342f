/**
 * Many environments cost what one does: `blast list` takes sizes and package counts from what
 * Blast recorded (no walk of every tree), `--size` measures exactly; `blast check` starts the
 * environments' Pythons with a bound, and `check NAME` checks one environment.
 */
import { expect } from 'chai';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processLimit } from '../src/lib/bounded.js';
import { blast, createAndLeave, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';

interface ListedJson {
  name: string;
  bytes?: number;
  sizeFrom?: string;
  packages?: number;
}

describe('scale: list and check over many environments (real CLI, real pip)', function () {
  this.timeout(300_000);
  let box: Sandbox;
  let wheels: string;
  const pipEnv = () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(isolatedPipEnv(box.env))) if (v !== undefined) env[k] = v;
    return env;
  };
  const list = (...flags: string[]) => {
    const run = blast(box, ['list', '--json', ...flags]);
    expect(run.status, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as ListedJson[];
  };

  before(() => {
    box = sandbox();
    wheels = mkdtempSync(join(tmpdir(), 'blast-scale-wheels-'));
    buildWheel('python3', wheels, 'scalepkg', '1.0');
    const started = throughFunction(box, ['start', 'used']);
    expect(started.status, started.stderr).to.equal(0);
    const state = /BLAST_SHELL_STATE='([A-Za-z0-9_-]+)'/.exec(started.script)![1]!;
    const pip = blast(box, ['pip', '--', 'install', '--no-index', '--find-links', wheels, 'scalepkg'], {
      env: { ...pipEnv(), BLAST_SHELL_STATE: state },
    });
    expect(pip.status, pip.stderr).to.equal(0);
    expect(throughFunction(box, ['kill'], { env: { BLAST_SHELL_STATE: state } }).status).to.equal(0);
  });
  after(() => box.cleanup());

  it('list shows the size and package count of the last recorded change without walking the tree; --size measures', () => {
    const [recorded] = list();
    expect(recorded!.sizeFrom).to.equal('recorded');
    expect(recorded!.packages).to.be.greaterThan(1); // pip and scalepkg at least
    expect(recorded!.bytes).to.be.greaterThan(0);
    // A file written into the environment outside any distribution: a walk sees it, the record not.
    const envPath = join(box.blastHome, 'envs', 'used');
    writeFileSync(join(envPath, 'big.bin'), Buffer.alloc(4 << 20, 1));
    const [again] = list();
    expect(again!.bytes).to.equal(recorded!.bytes);
    const [measured] = list('--size');
    expect(measured!.sizeFrom).to.equal('measured');
    expect(measured!.bytes).to.be.greaterThan(recorded!.bytes! + (4 << 20) - 1);
    const text = blast(box, ['list']);
    expect(text.stdout).to.match(/^\s+used\s+\S+\s+[\d.]+ [KMG]iB\s+\d+\s+named\s/m);
    const none = list('--no-size');
    expect(none[0]!.bytes).to.equal(undefined);
  });

  it('check NAME checks that environment alone; an unknown name is a clear error', () => {
    createAndLeave(box, 'other');
    const one = blast(box, ['check', 'other', '--json']);
    expect(one.status, one.stdout + one.stderr).to.equal(0);
    const envs = new Set(
      (JSON.parse(one.stdout) as { checks: Array<{ env?: string }> }).checks
        .map((c) => c.env)
        .filter(Boolean),
    );
    expect([...envs]).to.deep.equal(['other']);
    const unknown = blast(box, ['check', 'nosuch']);
    expect(unknown.status).to.equal(3);
    expect(unknown.stderr).to.include('No environment named "nosuch"');
    expect(unknown.stderr).not.to.match(/\n\s+at /);
  });

  it("check starts at most a bounded number of environments' Pythons at once", () => {
    const names = Array.from({ length: processLimit() + 3 }, (_, i) => `many${i}`);
    for (const name of names) createAndLeave(box, name);
    const log = join(box.root, 'pythons.log');
    const pipLog = join(box.root, 'pip-checks.log');
    // Each environment's python, wrapped: the core's "python runs" probe (it prints sys.prefix)
    // is logged as it starts and ends, and held a moment so unbounded probes would overlap.
    for (const name of names) {
      const python = join(box.blastHome, 'envs', name, 'bin', 'python');
      const real = realpathSync(python);
      renameSync(python, `${python}.real`);
      writeFileSync(
        python,
        `#!/bin/sh\ncase "$*" in *sys.prefix*) echo "+ $$" >> '${log}'; sleep 1; "${real}" "$@"; s=$?; echo "- $$" >> '${log}'; exit $s;; *"pip check"*) echo "pip check" >> '${pipLog}';; esac\nexec "${real}" "$@"\n`,
      );
      chmodSync(python, 0o755);
    }
    const run = blast(box, ['check', '--json']);
    expect(run.stdout + run.stderr).to.include('python runs');
    let running = 0;
    let most = 0;
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      running += line.startsWith('+') ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).to.be.at.most(processLimit());
    expect(most).to.be.greaterThan(1); // in parallel, not one after another
    // The consistency of every environment is checked in-process: not one `pip check` ran.
    expect(existsSync(pipLog) ? readFileSync(pipLog, 'utf8') : '').to.equal('');
    // `check NAME` is as thorough as ever: pip's own `pip check` for that environment.
    const one = blast(box, ['check', names[0]!]);
    expect(one.stdout).to.match(/pip check\s+many0/);
    expect(readFileSync(pipLog, 'utf8').trim().split('\n')).to.deep.equal(['pip check']);
  });
});
