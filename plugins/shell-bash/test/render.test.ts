/**
 * render() and quote() in real shells: every value must come back byte for byte, from the shell
 * and from a child process's environment, under `set -u` and `set -e`.
 */
import { expect } from 'chai';
import type { ShellChange } from 'blast/contract';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HOSTILE_VALUES,
  expectArrived,
  parseDump,
  parseEnv0,
  posixDump,
  prng,
  randomValue,
  runShell,
  tempDir,
  testSeed,
} from '../../../test/support/shells.js';
import { SOURCE_IN_FUNCTION, VARIANTS } from './variants.js';

const keep = { action: 'keep' } as const;

for (const variant of VARIANTS) {
  describe(`render in ${variant.label}`, function () {
    this.timeout(60_000);
    let dir: ReturnType<typeof tempDir>;
    beforeEach(() => (dir = tempDir()));
    afterEach(() => dir.cleanup());

    /** Apply `change` (inside a function, as the shell function does) after `before`, then dump `names`. */
    function apply(change: ShellChange, names: string[], before = '', top = false) {
      const file = join(dir.path, 'change.sh');
      writeFileSync(file, variant.adapter.render(change));
      const script = [
        'set -eu',
        variant.setup,
        SOURCE_IN_FUNCTION,
        before,
        top ? `. '${file}'` : `__blast_test_source '${file}'`,
        posixDump(names),
        `env -0 > '${join(dir.path, 'env0')}'`,
      ].join('\n');
      const result = runShell(variant.argv, script, { dir: dir.path });
      expect(result.stderr, 'stderr').to.equal('');
      expect(result.status, 'status').to.equal(0);
      return { shell: parseDump(result.stdout, names), env: parseEnv0(readFileSync(join(dir.path, 'env0'))) };
    }

    function roundTrip(values: readonly string[], label: string, top = false) {
      const names = values.map((_, i) => `BLAST_T_${i}`);
      const { shell, env } = apply(
        { set: values.map((v, i) => [names[i]!, v] as const), unset: [], prompt: keep },
        names,
        '',
        top,
      );
      expectArrived(values, names, { shell, env }, label, dir.path);
    }

    it('round-trips the fixed hostile values', () => roundTrip(HOSTILE_VALUES, 'hostile'));

    it('round-trips them when sourced at top level too (the subshell rc does that)', () =>
      roundTrip(HOSTILE_VALUES, 'hostile, top level', true));

    it('round-trips 250 random values', () => {
      const seed = testSeed();
      const random = prng(seed + variant.label.length);
      const values = Array.from({ length: 250 }, () => randomValue(random));
      roundTrip(values, `BLAST_TEST_SEED=${seed}`);
    });

    it('keeps unset apart from empty, for exported and shell-only variables', () => {
      const before = 'export GONE=1 EMPTY_BEFORE=x; LOCAL_ONLY=2; ALREADY_UNSET=3; unset -v ALREADY_UNSET';
      const change: ShellChange = {
        unset: ['GONE', 'LOCAL_ONLY', 'ALREADY_UNSET'],
        set: [
          ['EMPTY_BEFORE', ''],
          ['NEW_EMPTY', ''],
        ],
        prompt: keep,
      };
      const names = ['GONE', 'LOCAL_ONLY', 'ALREADY_UNSET', 'EMPTY_BEFORE', 'NEW_EMPTY'];
      const { shell, env } = apply(change, names, before);
      for (const n of ['GONE', 'LOCAL_ONLY', 'ALREADY_UNSET']) {
        expect(shell.get(n), n).to.equal(undefined);
        expect(env.has(n), n).to.equal(false);
      }
      for (const n of ['EMPTY_BEFORE', 'NEW_EMPTY']) {
        expect(shell.get(n)?.toString(), n).to.equal('');
        expect(env.get(n)?.toString(), n).to.equal('');
      }
    });

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

describe('quote and render refuse what no shell can hold', () => {
  const { adapter } = VARIANTS[0]!;
  it('refuses a NUL in a value', () => {
    expect(() => adapter.quote('a\0b')).to.throw(/NUL/);
  });
  it('refuses an invalid name rather than splice it into code', () => {
    expect(() => adapter.render({ set: [['A;touch pwned', 'x']], unset: [], prompt: keep })).to.throw(/name/);
    expect(() => adapter.render({ set: [], unset: ['$(x)'], prompt: keep })).to.throw(/name/);
  });
});
