import { expect } from 'chai';
import { BlastError, ExitCode } from '../../src/lib/cli/errors.js';
import { parseSpec } from '../../src/lib/python/spec.js';
import { compareVersionInfo, versionString } from '../../src/lib/python/version.js';

describe('python spec parsing', () => {
  it('reads no spec as the default', () => {
    expect(parseSpec(undefined)).to.deep.equal({ kind: 'default' });
  });

  it('reads paths: anything with a slash or starting with ~', () => {
    for (const p of ['/usr/bin/python3', './py', 'bin/python', '~', '~/x/python3', "/a b/it's/python"]) {
      expect(parseSpec(p)).to.deep.equal({ kind: 'path', path: p });
    }
  });

  it('reads versions as release prefixes', () => {
    expect(parseSpec('3')).to.deep.equal({ kind: 'version', release: [3] });
    expect(parseSpec('3.12')).to.deep.equal({ kind: 'version', release: [3, 12] });
    expect(parseSpec(' 3.12.1 ')).to.deep.equal({ kind: 'version', release: [3, 12, 1] });
    expect(parseSpec('3.13.0rc1')).to.deep.equal({ kind: 'exact', version: '3.13.0rc1' });
  });

  it('reads PEP 440 specifiers', () => {
    for (const s of ['>=3.10,<3.13', '>=3.10, <3.13', '~=3.11', '==3.12.*', '!=3.12.0', '<3']) {
      expect(parseSpec(s)).to.deep.equal({ kind: 'specifier', specifier: s });
    }
  });

  it('reads names, with a version fallback for pythonX.Y', () => {
    expect(parseSpec('python3.11')).to.deep.equal({ kind: 'name', name: 'python3.11', orVersion: [3, 11] });
    expect(parseSpec('python3')).to.deep.equal({ kind: 'name', name: 'python3', orVersion: [3] });
    expect(parseSpec('pypy3')).to.deep.equal({ kind: 'name', name: 'pypy3' });
  });

  it('rejects garbage with a usage error', () => {
    for (const bad of ['', '   ', 'python 3', '3.x!', '$(rm -rf)', '3..12', 'ü']) {
      let error: unknown;
      try {
        parseSpec(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).to.be.instanceOf(BlastError);
      expect((error as BlastError).exitCode, bad).to.equal(ExitCode.usage);
    }
  });
});

describe('python versions', () => {
  it('prints pre-releases the PEP 440 way', () => {
    expect(versionString([3, 13, 0, 'candidate', 1])).to.equal('3.13.0rc1');
    expect(versionString([3, 14, 0, 'alpha', 2])).to.equal('3.14.0a2');
    expect(versionString([3, 12, 1, 'final', 0])).to.equal('3.12.1');
  });

  it('orders pre-releases before the release', () => {
    const sorted = [
      [3, 13, 0, 'final', 0],
      [3, 13, 0, 'candidate', 1],
      [3, 12, 9, 'final', 0],
      [3, 13, 0, 'beta', 4],
    ].sort((a, b) => compareVersionInfo(a as never, b as never));
    expect(sorted.map((v) => versionString(v as never))).to.deep.equal([
      '3.12.9',
      '3.13.0b4',
      '3.13.0rc1',
      '3.13.0',
    ]);
  });
});
