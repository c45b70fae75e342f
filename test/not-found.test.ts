/**
 * Typos: a command that does not exist names the nearest one (@oclif/plugin-not-found asks on a
 * terminal; off one nothing is asked), a flag that does not exist names the nearest flag of the
 * command, and `-h` is help for every command.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';

describe('did you mean (commands and flags), -h', function () {
  this.timeout(120_000);
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('`blast strat` suggests start, asks nothing off a terminal, exits 127', () => {
    const run = blast(box, ['strat', 'demo']);
    expect(run.status).to.equal(127);
    expect(run.stderr).to.equal(
      'blast: strat is not a blast command; did you mean `blast start`?\n' +
        '  Run `blast help` for the list of commands.\n',
    );
    expect(run.stdout).to.equal('');
    expect(existsSync(join(box.blastHome, 'envs', 'demo'))).to.equal(false);
    const far = blast(box, ['xyzzy']);
    expect(far.status).to.equal(127);
    expect(far.stderr).to.include('blast: xyzzy is not a blast command.\n');
  });

  it('an unknown flag names the near one, core and plugin settings alike, through the function too', () => {
    const path = throughFunction(box, ['start', 'demo', '--pathh', 'x']);
    expect(path.status).to.equal(2);
    expect(path.stderr).to.include('blast: start has no flag --pathh (did you mean --path?).\n');
    expect(path.stderr).to.include('`blast start --help` lists its flags.');
    expect(path.stderr).to.not.match(/Nonexistent flag|USAGE/);
    const setting = blast(box, ['start', 'demo', '--constrant', 'a<2']);
    expect(setting.stderr).to.include('(did you mean --constraint?)');
    const kill = throughFunction(box, ['kill', '--forec']);
    expect(kill.status).to.equal(2);
    expect(kill.stderr).to.include('blast: kill has no flag --forec (did you mean --force?).\n');
    expect(existsSync(join(box.blastHome, 'envs', 'demo'))).to.equal(false);
  });

  it('-h is help for every command, as --help', () => {
    for (const argv of [['start'], ['kill'], ['history'], []]) {
      const short = blast(box, [...argv, '-h']);
      expect(short.status, `${argv.join(' ')} -h: ${short.stderr}`).to.equal(0);
      expect(short.stdout).to.equal(blast(box, [...argv, '--help']).stdout);
      expect(short.stdout).to.match(/USAGE/);
    }
  });
});
