/** The API range check that runs before every command: its own `^X.Y.Z` path agrees with semver. */
import { expect } from 'chai';
import semver from 'semver';
import { apiSatisfies } from '../src/lib/plugin-host/api-version.js';

const RANGES = [
  '^1.0.0',
  '^1.2.0',
  '^1.3.0',
  '^1.3.1',
  '^1.10.0',
  '^2.0.0',
  ' ^1.1.0 ',
  // Not the fast path's form: semver decides.
  '^0.1.0',
  '^1.2',
  '^1.x',
  '>=1.2.0 <2.0.0',
  '~1.3.0',
  '1.3.0',
  '*',
  '^1.2.0 || ^2.0.0',
];
const VERSIONS = ['0.1.5', '1.0.0', '1.2.9', '1.3.0', '1.3.2', '1.10.0', '1.9.9', '2.0.0', '1.3.0-beta.1'];

describe('API version ranges', () => {
  it('decides every range as semver does', () => {
    for (const range of RANGES)
      for (const version of VERSIONS)
        expect(apiSatisfies(version, range), `${version} in ${range}`).to.equal(
          semver.satisfies(version, range),
        );
  });

  it('says when a declaration is no range at all', () => {
    for (const bad of ['one', '^^1.0.0', '1.2.3.4'])
      expect(apiSatisfies('1.3.0', bad), JSON.stringify(bad)).to.equal(undefined);
  });
});
