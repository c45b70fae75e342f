/**
 * The prompt tag in real, non-interactive fish: `fish_prompt` is called the way fish calls it,
 * after a failing pipeline, so the output shows the tag, the user's prompt and the `$status` and
 * `$pipestatus` that prompt saw. Restoring gives back the very definition (`functions fish_prompt`)
 * — for an autoloaded prompt including where fish loaded it from.
 * prompt-interactive.test.ts shows the same on a real terminal.
 */
import { expect } from 'chai';
import type { ShellChange } from 'blast/contract';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, splitNul, tempDir } from '../../../test/support/shells.js';
import { fish } from '../src/adapters.js';
import { FISH_WITH_HOME, HOSTILE_TAGS, runFish, SOURCE_IN_FUNCTION } from './fish.js';

const tag = (t: string): ShellChange => ({ set: [], unset: [], prompt: { action: 'tag', tag: t } });
const restore: ShellChange = { set: [], unset: [], prompt: { action: 'restore' } };
const keep: ShellChange = { set: [], unset: [], prompt: { action: 'keep' } };

/** An autoloaded prompt that shows what it saw. */
const AUTOLOADED = 'function fish_prompt\n    printf \'[%s|%s] auto> \' $status "$pipestatus"\nend\n';
/** A prompt defined in config.fish (or anywhere but the function path): two lines, status first. */
const CUSTOM = "function fish_prompt\n    printf '[%s] custom\\n> ' $status\nend";

type Step = { apply: ShellChange } | { code: string } | 'shown' | 'definition' | 'helpers';

/** Prints: the prompt output after `false | true | sh -c 'exit 7'`, NUL-terminated. */
const SHOWN = "false | true | sh -c 'exit 7'; fish_prompt; printf '\\0'";
/** Prints `functions fish_prompt` (or `unset`), NUL-terminated. */
const DEFINITION =
  "if functions -q fish_prompt; functions fish_prompt; else; printf unset; end; printf '\\0'";
/** Prints which of Blast's helpers are left, NUL-terminated. */
const HELPERS =
  "begin; set -n; functions -a -n; end | string match -r -- '^_blast.*|^_BLAST.*' | string join ,; printf '\\0'";

describe('prompt in fish', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  let home: string;
  beforeEach(() => {
    dir = tempDir();
    home = join(dir.path, 'home');
    mkdirSync(join(home, '.config', 'fish', 'functions'), { recursive: true });
  });
  afterEach(() => dir.cleanup());

  const autoloaded = () =>
    writeFileSync(join(home, '.config', 'fish', 'functions', 'fish_prompt.fish'), AUTOLOADED);

  /** Run steps in one fish that reads HOME's function path; returns what the steps printed. */
  function session(steps: Step[]): string[] {
    const lines = [SOURCE_IN_FUNCTION];
    let files = 0;
    let records = 0;
    for (const step of steps) {
      if (step === 'shown') lines.push(SHOWN);
      else if (step === 'definition') lines.push(DEFINITION);
      else if (step === 'helpers') lines.push(HELPERS);
      else if ('code' in step) lines.push(step.code);
      else {
        const file = join(dir.path, `change-${files++}.fish`);
        writeFileSync(file, fish.render(step.apply));
        lines.push(`__blast_test_source '${file}'`);
      }
      if (typeof step === 'string') records++;
    }
    const result = runFish(lines.join('\n'), {
      dir: dir.path,
      argv: FISH_WITH_HOME,
      env: cleanEnv({ HOME: home }),
    });
    expect(result.stderr, 'stderr').to.equal('');
    expect(result.status, 'status').to.equal(0);
    const out = splitNul(result.stdout).map((b) => b.toString('utf8'));
    expect(out.length, 'records').to.equal(records);
    expect(existsSync(join(dir.path, 'pwned')), 'the tag ran code').to.equal(false);
    return out;
  }

  it('tags an autoloaded prompt not loaded yet, which still sees $status and $pipestatus', () => {
    autoloaded();
    const [shown, definition] = session([{ apply: tag('(a) ') }, 'shown', 'definition']);
    expect(shown).to.equal('(a) [7|1 0 7] auto> ');
    expect(definition)
      .to.match(/^# Defined in .*\n/)
      .and.to.contain('Blast: the environment tag');
  });

  it('switching replaces the tag; restore gives the autoloaded prompt back exactly, from its file', () => {
    autoloaded();
    const out = session([
      'shown',
      'definition',
      { apply: tag('(a) ') },
      { apply: tag('(b) ') },
      'shown',
      { apply: restore },
      'shown',
      'definition',
      'helpers',
    ]);
    const [before, definition, switched, after, restored, helpers] = out;
    expect(before).to.equal('[7|1 0 7] auto> ');
    expect(definition).to.contain(
      `# Defined in ${join(home, '.config', 'fish', 'functions', 'fish_prompt.fish')} @ line 1\n`,
    );
    expect(switched).to.equal('(b) [7|1 0 7] auto> ');
    expect(after).to.equal(before);
    expect(restored).to.equal(definition);
    expect(helpers).to.equal('');
  });

  it("restores fish's own default prompt exactly", () => {
    const out = session(['definition', { apply: tag('(a) ') }, { apply: restore }, 'definition', 'helpers']);
    expect(out[0]).to.match(/^# Defined in \/.*share\/fish\/functions\/fish_prompt\.fish @ line \d+\n/);
    expect(out[1]).to.equal(out[0]);
    expect(out[2]).to.equal('');
  });

  it('tags a prompt defined in a script and restores its code (fish keeps no origin for the copy)', () => {
    const out = session([
      { code: CUSTOM },
      'shown',
      'definition',
      { apply: tag('(a) ') },
      'shown',
      { apply: restore },
      'shown',
      'definition',
      'helpers',
    ]);
    const [before, definition, tagged, after, restored, helpers] = out;
    expect(before).to.equal('[7] custom\n> ');
    expect(tagged).to.equal('(a) [7] custom\n> ');
    expect(after).to.equal(before);
    // fish 3.6 records no origin for a function copied with `functions -c`: only that comment differs.
    const body = (d: string) => d.replace(/^# Defined .*\n/, '');
    expect(definition).to.match(/^# Defined in .*script\.fish @ line \d+\n/);
    expect(body(restored!)).to.equal(body(definition!));
    expect(helpers).to.equal('');
  });

  it('keeps a multi-line prompt and its trailing newlines whole', () => {
    const [shown] = session([
      { code: "function fish_prompt; printf 'one\\n\\ntwo\\n\\n'; end" },
      { apply: tag('(a) ') },
      'shown',
    ]);
    expect(shown).to.equal('(a) one\n\ntwo\n\n');
  });

  it('shows every tag literally before the prompt', () => {
    autoloaded();
    const steps: Step[] = [];
    for (const t of HOSTILE_TAGS) steps.push({ apply: tag(t) }, 'shown');
    const shown = session(steps);
    HOSTILE_TAGS.forEach((t, i) => expect(shown[i], t).to.equal(`${t}[7|1 0 7] auto> `));
  });

  it('without any prompt: shows only the tag, and restore leaves no prompt', () => {
    const out = session([
      { code: 'functions -e fish_prompt' },
      'definition',
      { apply: tag('(a) ') },
      'shown',
      { apply: tag('(b) ') },
      'shown',
      { apply: restore },
      'definition',
      'helpers',
    ]);
    expect(out).to.deep.equal(['unset', '(a) ', '(b) ', 'unset', '']);
  });

  it('leaves the prompt alone when VIRTUAL_ENV_DISABLE_PROMPT is non-empty (exported or not)', () => {
    autoloaded();
    for (const disable of ['set -g VIRTUAL_ENV_DISABLE_PROMPT 1', 'set -gx VIRTUAL_ENV_DISABLE_PROMPT yes']) {
      const out = session([
        { code: disable },
        'definition',
        { apply: tag('(a) ') },
        'shown',
        'definition',
        'helpers',
        { apply: restore },
        'definition',
      ]);
      expect(out[1], disable).to.equal('[7|1 0 7] auto> ');
      expect(out[2]).to.equal(out[0]);
      expect(out[3], 'no helper').to.equal('');
      expect(out[4]).to.equal(out[0]);
    }
  });

  it('tags when VIRTUAL_ENV_DISABLE_PROMPT is empty', () => {
    autoloaded();
    const [shown] = session([
      { code: "set -g VIRTUAL_ENV_DISABLE_PROMPT ''" },
      { apply: tag('(a) ') },
      'shown',
    ]);
    expect(shown).to.equal('(a) [7|1 0 7] auto> ');
  });

  it('keep and a restore with nothing saved leave the prompt alone', () => {
    const out = session([{ code: CUSTOM }, 'definition', { apply: keep }, { apply: restore }, 'definition']);
    expect(out[1]).to.equal(out[0]);
  });

  it('works at top level too, and after a leftover copy from a lost session', () => {
    autoloaded();
    const file = join(dir.path, 'tag.fish');
    writeFileSync(file, fish.render(tag('(a) ')));
    const restoreFile = join(dir.path, 'restore.fish');
    writeFileSync(restoreFile, fish.render(restore));
    const out = session([
      'definition',
      { code: 'function _blast_old_fish_prompt; echo stale; end' },
      { code: `builtin source '${file}'` },
      'shown',
      { code: `builtin source '${restoreFile}'` },
      'definition',
      'helpers',
    ]);
    expect(out[1]).to.equal('(a) [7|1 0 7] auto> ');
    expect(out[2]).to.equal(out[0]);
    expect(out[3]).to.equal('');
  });

  it('falls back to the saved copy when the autoloaded file is gone at restore', () => {
    autoloaded();
    const out = session([
      'shown',
      { apply: tag('(a) ') },
      { code: `rm '${join(home, '.config', 'fish', 'functions', 'fish_prompt.fish')}'` },
      { apply: restore },
      'shown',
      'helpers',
    ]);
    expect(out[1]).to.equal(out[0]);
    expect(out[2]).to.equal('');
  });
});
