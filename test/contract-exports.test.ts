/**
 * The plugin contract is one module under two names: `blast/contract`, and `blast/hooks`, the name
 * third-party plugins were written against before it was renamed (oclif's own hooks live in
 * src/hooks/, a different thing). Both resolve to the same built file.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the contract module: blast/contract, alias blast/hooks', () => {
  it('both exports name the same built module and its types, and the build made them', () => {
    const exports = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports;
    expect(exports['./contract']).to.deep.equal({
      types: './dist/lib/plugin-host/contract.d.ts',
      default: './dist/lib/plugin-host/contract.js',
    });
    expect(exports['./hooks']).to.deep.equal(exports['./contract']);
    const { resolve } = createRequire(import.meta.url); // the package resolving its own exports
    expect(resolve('blast/contract')).to.equal(resolve('blast/contract'));
    for (const file of Object.values(exports['./contract'] as Record<string, string>))
      expect(existsSync(join(ROOT, file)), file).to.equal(true);
  });
});
