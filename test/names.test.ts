import { expect } from 'chai';
import { assertEnvName, envNameProblem, parseEnvAssignments } from '../src/lib/names.js';
import { BlastError } from '../src/lib/errors.js';

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
      ['x'.repeat(101), /longer than 100/],
      ['-rf', /starts with "-"/],
      ['.hidden', /starts with "\."/],
      [' padded', /white space/],
    ];
    for (const [name, why] of bad) {
      expect(envNameProblem(name), JSON.stringify(name)).to.match(why);
      expect(() => assertEnvName(name)).to.throw(BlastError);
    }
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
