/**
 * The prompt tag, non-interactively: PS1 is expanded by the shell's own prompt expansion
 * (`${PS1@P}` in bash, `print -P` in zsh) under every option that changes the prompt language,
 * and saved/restored byte for byte. prompt-interactive.test.ts shows the same on a real terminal.
 */
import { expect } from 'chai';
import type { ShellAdapter, ShellChange } from 'blast/contract';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTILE_VALUES, posixDump, runShell, splitNul, tempDir } from '../../../test/support/shells.js';
import { HOSTILE_TAGS, PROMPT_OPTIONS, SOURCE_IN_FUNCTION, VARIANTS, type Variant } from './variants.js';

const tag = (t: string): ShellChange => ({ set: [], unset: [], prompt: { action: 'tag', tag: t } });
const restore: ShellChange = { set: [], unset: [], prompt: { action: 'restore' } };

const HELPERS = ['_BLAST_OLD_PS1', '_BLAST_PS1_SAVED', '_BLAST_PROMPT'];

const ORIGINAL: Record<string, string> = { bash: '\\u@\\h:\\w\\$ ', zsh: '%n@%m %~ %# ' };

/** Code that prints the expanded prompt, NUL-terminated. */
const expandPrompt = (shell: string) =>
  shell === 'bash' ? `printf '%s\\0' "\${PS1@P}"` : `print -rnP -- "$PS1"; printf '\\0'`;

type Step = { apply: ShellChange } | { code: string } | 'ps1' | 'expanded' | 'helpers';

/** Run steps in one shell; returns what the 'ps1' / 'expanded' / 'helpers' steps printed. */
function session(variant: Variant, dir: string, options: string, steps: Step[]) {
  const shell = variant.adapter.name;
  const lines = ['set -u', variant.setup, options, SOURCE_IN_FUNCTION];
  let files = 0;
  let records = 0;
  for (const step of steps) {
    if (step === 'ps1') {
      lines.push(posixDump(['PS1']));
      records += 2;
    } else if (step === 'expanded') {
      lines.push(expandPrompt(shell));
      records += 1;
    } else if (step === 'helpers') {
      lines.push(posixDump(HELPERS));
      records += 2 * HELPERS.length;
    } else if ('code' in step) {
      lines.push(step.code);
    } else {
      const file = join(dir, `change-${files++}.sh`);
      writeFileSync(file, variant.adapter.render(step.apply));
      lines.push(`__blast_test_source '${file}'`);
    }
  }
  const result = runShell(variant.argv, lines.join('\n'), { dir });
  expect(result.stderr, 'stderr').to.equal('');
  expect(result.status, 'status').to.equal(0);
  const out = splitNul(result.stdout);
  expect(out.length, 'records').to.equal(records);
  expect(existsSync(join(dir, 'pwned')), 'the tag ran code').to.equal(false);
  return out.map((b) => b.toString('utf8'));
}

const setPS1 = (adapter: ShellAdapter, value: string | undefined) =>
  value === undefined ? 'unset -v PS1' : `PS1=${adapter.quote(value)}`;

for (const variant of VARIANTS) {
  const shell = variant.adapter.name;
  describe(`prompt in ${variant.label}`, function () {
    this.timeout(60_000);
    let dir: ReturnType<typeof tempDir>;
    beforeEach(() => (dir = tempDir()));
    afterEach(() => dir.cleanup());

    // With no option set, the conformance suite (conformance.test.ts) shows the same.
    for (const options of PROMPT_OPTIONS[shell]!.filter((o) => o !== '')) {
      it(`shows every tag literally before the prompt (${options})`, () => {
        const steps: Step[] = [{ code: setPS1(variant.adapter, ORIGINAL[shell]) }, 'expanded'];
        for (const t of HOSTILE_TAGS) steps.push({ apply: tag(t) }, 'expanded');
        const [original, ...shown] = session(variant, dir.path, options, steps);
        HOSTILE_TAGS.forEach((t, i) => expect(shown[i], t).to.equal(t + original));
      });
    }

    it('switching replaces the tag; restore gives the original PS1 back byte for byte', () => {
      for (const original of [ORIGINAL[shell]!, '', ...HOSTILE_VALUES.slice(0, 25)]) {
        const out = session(variant, dir.path, '', [
          { code: setPS1(variant.adapter, original) },
          { apply: tag('(a) ') },
          { apply: tag('(b) ') },
          { apply: restore },
          'ps1',
          'helpers',
        ]);
        expect(out.slice(0, 2), JSON.stringify(original)).to.deep.equal(['set', original]);
        expect(
          out.slice(2).filter((x) => x === 'set'),
          'helpers left',
        ).to.deep.equal([]);
      }
    });

    it('an unset PS1 stays unset, and the helpers are gone after restore', () => {
      const out = session(variant, dir.path, '', [
        { code: 'unset -v PS1' },
        { apply: tag('(a) ') },
        'expanded',
        { apply: tag('(b) ') },
        'expanded',
        { apply: restore },
        'ps1',
        'helpers',
      ]);
      expect(out.slice(0, 2)).to.deep.equal(['(a) ', '(b) ']);
      expect(out.slice(2, 4)).to.deep.equal(['unset', '']);
      expect(
        out.slice(4).filter((x) => x === 'set'),
        'helpers left',
      ).to.deep.equal([]);
    });

    it('leaves PS1 alone when VIRTUAL_ENV_DISABLE_PROMPT is non-empty (exported or not)', () => {
      for (const disable of ['VIRTUAL_ENV_DISABLE_PROMPT=1', 'export VIRTUAL_ENV_DISABLE_PROMPT=yes']) {
        const out = session(variant, dir.path, '', [
          { code: `PS1='$ '; ${disable}` },
          { apply: tag('(a) ') },
          'ps1',
          'helpers',
          { apply: restore },
          'ps1',
        ]);
        expect(out.slice(0, 2), disable).to.deep.equal(['set', '$ ']);
        expect(out.filter((x) => x === 'set').length, 'no helper was set').to.equal(2);
        expect(out.slice(-2)).to.deep.equal(['set', '$ ']);
      }
    });

    it('tags when VIRTUAL_ENV_DISABLE_PROMPT is empty', () => {
      const [shown] = session(variant, dir.path, '', [
        { code: "PS1='$ '; VIRTUAL_ENV_DISABLE_PROMPT=" },
        { apply: tag('(a) ') },
        'expanded',
      ]);
      expect(shown).to.equal('(a) $ ');
    });
  });
}
