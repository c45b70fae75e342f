import { expect } from 'chai';
import { assertEnvName, envNameProblem, parseEnvAssignments } from '../src/lib/envs/names.js';
import { BlastError } from '../src/lib/cli/errors.js';

describe('names', () => {
  it('accepts ordinary names, spaces and unicode', () => {
    for (const name of ['demo', 'my-env_2', 'with space', 'café', 'a.b', 'x'.repeat(100)]) {
      expect(envNameProblem(name), name).to.equal(undefined);
    }
  });

  it('rejects empty, "/", "..", control characters, > 100 characters, option-like', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a/b', /"\/"/],
      ['..', /"\.\."/],
      ['a..b', /"\.\."/],
      ['a\nb', /control/],
      ['tab\there', /control/],
      ['bell\u0007', /control/],
      ['del\u007f', /control/],
      ['x'.repeat(101), /101 characters long, more than 100/],
      ['-rf', /starts with "-"/],
      ['.hidden', /starts with "\."/],
      [' padded', /white space/],
    ];
    for (const [name, why] of bad) {
      expect(envNameProblem(name), JSON.stringify(name)).to.match(why);
      expect(() => assertEnvName(name)).to.throw(BlastError);
    }
  });

  it('counts characters as code points: 100 of anything in 240 bytes pass, 101 do not', () => {
    // 51 emoji are 102 UTF-16 units but 51 characters (204 bytes).
    for (const name of ['🐍'.repeat(51), '🐍'.repeat(60), '環'.repeat(80), 'é'.repeat(100), 'x'.repeat(100)])
      expect(envNameProblem(name), name).to.equal(undefined);
    expect(envNameProblem('é'.repeat(101))).to.match(/101 characters long, more than 100/);
  });

  it('refuses a name whose UTF-8 form is too long for a file name, however few its characters', () => {
    expect(envNameProblem('環'.repeat(100))).to.match(/300 bytes in UTF-8, more than the 240/);
    expect(envNameProblem('環'.repeat(81))).to.match(/243 bytes/);
    expect(envNameProblem('🐍'.repeat(61))).to.match(/244 bytes/);
    expect(() => assertEnvName('環'.repeat(100))).to.throw(BlastError, /bytes/);
  });

  it('parses --env NAME=VALUE, keeping "=" and newlines in the value', () => {
    expect(parseEnvAssignments(['A=1', 'B=x=y', 'C=', 'D=line\nline'])).to.deep.equal({
      A: '1',
      B: 'x=y',
      C: '',
      D: 'line\nline',
    });
  });

  it('rejects --env without "=", invalid names, and variables Blast manages', () => {
    for (const bad of [
      'NOVALUE',
      '=x',
      '1A=x',
      'A-B=x',
      'A B=x',
      'PATH=x',
      'VIRTUAL_ENV=x',
      'BLAST_ENV=x',
      'PS1=x',
    ]) {
      expect(() => parseEnvAssignments([bad]), bad).to.throw(BlastError);
    }
  });
});
