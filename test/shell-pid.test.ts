/**
 * The activation's shell pid comes from the shell function (BLAST_SHELL_PID), never from the
 * CLI's parent: without it, with pid 1, or with a pid that is not the shell running the CLI,
 * `blast start` and `blast kill` refuse with the way out, and nothing is created. Real CLI; the
 * function's protocol as the function speaks it.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, throughFunction, type Sandbox } from './support/cli.js';

describe("the shell's pid comes from the shell function (real CLI)", function () {
  this.timeout(120_000);
  let box: Sandbox;
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  /** The function's protocol with this BLAST_SHELL_PID ('' stands for a function without it). */
  const refused = (pid: string, args = ['start', 'demo']) =>
    throughFunction(box, args, { env: { BLAST_SHELL_PID: pid } });

  it('a function that does not pass it (an older Blast): start refuses, says how to reload it', () => {
    const run = refused('');
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include("does not pass the shell's pid (BLAST_SHELL_PID)");
    expect(run.stderr).to.include('eval "$(blast init bash)"');
    expect(run.script).to.equal('');
    expect(existsSync(join(box.blastHome, 'envs', 'demo'))).to.equal(false);
  });

  it('pid 1 is never a shell: start and kill refuse it', () => {
    for (const args of [['start', 'demo'], ['kill']]) {
      const run = refused('1', args);
      expect(run.status, args.join(' ')).to.equal(2);
      expect(run.stderr).to.include('names pid 1');
    }
    expect(existsSync(join(box.blastHome, 'envs', 'demo'))).to.equal(false);
  });

  it('a living process that is not the shell running the CLI, or a dead one: start refuses', async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const run = refused(String(other.pid));
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include(`The shell that ran this command (pid ${other.pid}) is gone`);
      expect(run.stderr).to.include('Run the command again from a live shell');
    } finally {
      other.kill('SIGKILL');
    }
    await new Promise((r) => other.on('exit', r));
    const dead = refused(String(other.pid));
    expect(dead.status).to.equal(1);
    expect(existsSync(join(box.blastHome, 'envs', 'demo'))).to.equal(false);
    expect(refused('12abc').stderr).to.include('is not a process id');
  });
});
