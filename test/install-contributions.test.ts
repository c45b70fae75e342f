/** What preInstall handlers add to pip's run, and Blast's own --yes. */
import { expect } from 'chai';
import { mergeInstallEnv, takeYes } from '../src/lib/plugin-host/install-contributions.js';

describe('preInstall contributions', () => {
  it('merges variables from every plugin', () => {
    const env = mergeInstallEnv([
      { plugin: 'a', result: { env: { PIP_CONSTRAINT: '/x/c.txt' } } },
      { plugin: 'b', result: undefined },
      { plugin: 'c', result: { env: { PIP_NO_INPUT: '1' } } },
    ]);
    expect(env).to.deep.equal({ PIP_CONSTRAINT: '/x/c.txt', PIP_NO_INPUT: '1' });
  });

  it('refuses one variable from two plugins, naming both', () => {
    expect(() =>
      mergeInstallEnv([
        { plugin: 'a', result: { env: { PIP_CONSTRAINT: '1' } } },
        { plugin: 'b', result: { env: { PIP_CONSTRAINT: '1' } } },
      ]),
    ).to.throw(/Plugins a and b both set PIP_CONSTRAINT/);
  });

  it('refuses names that are not variables and values with NUL', () => {
    expect(() => mergeInstallEnv([{ plugin: 'a', result: { env: { 'A=B': '1' } } }])).to.throw(
      /invalid variable/,
    );
    expect(() => mergeInstallEnv([{ plugin: 'a', result: { env: { A: 'x\0y' } } }])).to.throw(
      /invalid variable/,
    );
  });
});

describe('--yes', () => {
  it('is taken out of install arguments, before --', () => {
    expect(takeYes(['install', '--yes', 'alpha'])).to.deep.equal({ args: ['install', 'alpha'], yes: true });
    expect(takeYes(['install', 'alpha', '--', '--yes'])).to.deep.equal({
      args: ['install', 'alpha', '--', '--yes'],
      yes: false,
    });
    expect(takeYes(['install', 'alpha'])).to.deep.equal({ args: ['install', 'alpha'], yes: false });
  });

  it("stays for uninstall, where it is pip's own, and counts as yes", () => {
    expect(takeYes(['uninstall', '-y', 'alpha'])).to.deep.equal({
      args: ['uninstall', '-y', 'alpha'],
      yes: true,
    });
    expect(takeYes(['uninstall', 'alpha'])).to.deep.equal({ args: ['uninstall', 'alpha'], yes: false });
  });

  it('finds the subcommand past general options and their values (the one pip-argument parser)', () => {
    // `x.log` is --log's value, not the subcommand: uninstall's own --yes must reach pip.
    expect(takeYes(['--log', 'x.log', 'uninstall', 'foo', '--yes'])).to.deep.equal({
      args: ['--log', 'x.log', 'uninstall', 'foo', '--yes'],
      yes: true,
    });
    expect(takeYes(['--log', 'x.log', 'install', '--yes', 'foo'])).to.deep.equal({
      args: ['--log', 'x.log', 'install', 'foo'],
      yes: true,
    });
    // A command that is neither keeps its arguments as they are.
    expect(takeYes(['--isolated', 'wheel', '--yes'])).to.deep.equal({
      args: ['--isolated', 'wheel', '--yes'],
      yes: false,
    });
  });
});
