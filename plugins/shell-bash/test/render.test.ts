/**
 * render() in real shells, what only bash and zsh need: a function of the same name survives an
 * unset, and cached command paths are forgotten. The quoting round trip, unset vs empty and the
 * refusals are the shared conformance suite's (conformance.test.ts, every variant).
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runShell, tempDir } from '../../../test/support/shells.js';
import { SOURCE_IN_FUNCTION, VARIANTS } from './variants.js';

const keep = { action: 'keep' } as const;

for (const variant of VARIANTS) {
  describe(`render in ${variant.label}`, function () {
    this.timeout(60_000);
    let dir: ReturnType<typeof tempDir>;
    beforeEach(() => (dir = tempDir()));
    afterEach(() => dir.cleanup());

    it('unsets a variable, never a function of the same name', () => {
      const script = [
        variant.setup,
        'set -u',
        'GONE() { echo still-here; }',
        `. /dev/stdin <<'EOF'\n${variant.adapter.render({ set: [], unset: ['GONE'], prompt: keep })}EOF`,
        'GONE',
      ].join('\n');
      const result = runShell(variant.argv, script, { dir: dir.path });
      expect(result.stdout.toString()).to.equal('still-here\n');
    });

    it('forgets cached command paths (hash -r / rehash)', () => {
      // `tool` is cached from b/; then a/ (earlier on PATH) gets one: only a forgotten cache finds it.
      const script = [
        variant.setup,
        'set -eu',
        SOURCE_IN_FUNCTION,
        `mkdir a b; printf '#!/bin/sh\\necho b\\n' > b/tool; chmod +x b/tool`,
        'PATH="$PWD/a:$PWD/b:$PATH"; tool; cp b/tool a/tool',
        `__blast_test_source '${join(dir.path, 'change.sh')}'`,
        'command -v tool',
      ].join('\n');
      writeFileSync(
        join(dir.path, 'change.sh'),
        variant.adapter.render({ set: [['X', '1']], unset: [], prompt: keep }),
      );
      const result = runShell(variant.argv, script, { dir: dir.path });
      expect(result.stdout.toString()).to.equal(`b\n${join(dir.path, 'a', 'tool')}\n`);
    });
  });
}
