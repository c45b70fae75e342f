/**
 * render() and quote() in real fish, what only fish needs: values fish encodes internally, quote()
 * as a command argument, globals that outlive the sourcing function, PATH-like variables as lists
 * (split into elements, exported joined with `:`, empty apart from unset), read-only variables.
 * The quoting round trip of the hostile and random values, unset vs empty and the refusals are the
 * shared conformance suite's (conformance.test.ts).
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
  prng,
  randomValue,
  splitNul,
  tempDir,
  testSeed,
} from '../../../test/support/shells.js';
import { fish } from '../src/adapters.js';
import { fishDump, runFish, SOURCE_IN_FUNCTION } from './fish.js';

const keep = { action: 'keep' } as const;

describe('render in fish', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());

  /** Apply `change` (inside a function unless `top`) after `before`, then dump `names` and the env. */
  function apply(change: ShellChange, names: string[], before = '', top = false, after = '') {
    const file = join(dir.path, 'change.fish');
    writeFileSync(file, fish.render(change));
    const script = [
      SOURCE_IN_FUNCTION,
      before,
      top ? `builtin source '${file}'` : `__blast_test_source '${file}'`,
      fishDump(names),
      // /usr/bin/env: a change may leave PATH empty.
      `/usr/bin/env -0 > '${join(dir.path, 'env0')}'`,
      after,
    ].join('\n');
    const result = runFish(script, { dir: dir.path });
    expect(result.stderr, 'stderr').to.equal('');
    expect(result.status, 'status').to.equal(0);
    return {
      shell: parseDump(result.stdout, names),
      env: parseEnv0(readFileSync(join(dir.path, 'env0'))),
      stdout: result.stdout,
    };
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

  it("round-trips what fish encodes internally (private-use and non-characters) and fish's escapes", () =>
    roundTrip(
      ['\uf600\uf6ff\ufdd0\ufdef\ufffe\uffff', '\u{10ffff}', '\\x41\\u0041\\e\\c\\0', "a\\\nb'\\", '\\\\\\'],
      'fish-specific',
    ));

  it('quote() reads back byte for byte as a command argument (hostile and 250 random values)', () => {
    const random = prng(testSeed() + 5);
    const values = [
      ...HOSTILE_VALUES,
      '-n',
      '--',
      '%self',
      '{a,b}',
      '~',
      '*',
      '$argv',
      ...Array.from({ length: 250 }, () => randomValue(random)),
    ];
    const result = runFish(`printf '%s\\0' ${values.map(fish.quote).join(' ')}`, { dir: dir.path });
    expect(result.status).to.equal(0);
    expect(splitNul(result.stdout).map((b) => b.toString('utf8'))).to.deep.equal(values);
  });

  it('sets globals that outlive the function that sourced them, and erases the global', () => {
    // A function-local of the same name is what `set`/`set -e` without -g would touch.
    const before = [
      'set -gx OUTER before',
      'function __blast_test_local_shadow; set -l OUTER local; __blast_test_source $argv[1]; end',
    ].join('\n');
    const file = join(dir.path, 'change.fish');
    writeFileSync(file, fish.render({ set: [['SET_HERE', 'v']], unset: ['OUTER'], prompt: keep }));
    const script = [
      SOURCE_IN_FUNCTION,
      before,
      `__blast_test_local_shadow '${file}'`,
      fishDump(['SET_HERE', 'OUTER']),
    ].join('\n');
    const result = runFish(script, { dir: dir.path });
    expect(result.stderr).to.equal('');
    const dump = parseDump(result.stdout, ['SET_HERE', 'OUTER']);
    expect(dump.get('SET_HERE')?.toString()).to.equal('v');
    expect(dump.get('OUTER')).to.equal(undefined);
  });

  it('sets PATH as a list of its elements, exported joined with ":"', () => {
    const path = `/env dir/bin:/usr/bin:/bin:/with'quote $(x)`;
    const { shell, env, stdout } = apply(
      { set: [['PATH', path]], unset: [], prompt: keep },
      ['PATH'],
      '',
      false,
      `printf '%s\\0' (count $PATH) $PATH`,
    );
    expect(shell.get('PATH')?.toString()).to.equal(path);
    expect(env.get('PATH')?.toString()).to.equal(path);
    const tail = splitNul(stdout)
      .slice(2)
      .map((b) => b.toString('utf8'));
    expect(tail).to.deep.equal(['4', '/env dir/bin', '/usr/bin', '/bin', "/with'quote $(x)"]);
  });

  it('keeps an empty PATH apart from an unset one', () => {
    const empty = apply(
      { set: [['PATH', '']], unset: [], prompt: keep },
      ['PATH'],
      '',
      false,
      "printf '%s\\n' (count $PATH)",
    );
    expect(empty.shell.get('PATH')?.toString()).to.equal('');
    expect(empty.env.get('PATH')?.toString()).to.equal('');
    expect(empty.stdout.toString().endsWith('0\n'), 'the empty list').to.equal(true);
    // /usr/bin/env: with PATH gone, fish would not find env on it.
    const file = join(dir.path, 'change.fish');
    writeFileSync(file, fish.render({ set: [], unset: ['PATH'], prompt: keep }));
    const result = runFish(
      `${SOURCE_IN_FUNCTION}\n__blast_test_source '${file}'\n${fishDump(['PATH'])}\n/usr/bin/env -0 > '${join(dir.path, 'env0')}'`,
      { dir: dir.path },
    );
    expect(parseDump(result.stdout, ['PATH']).get('PATH')).to.equal(undefined);
    expect(parseEnv0(readFileSync(join(dir.path, 'env0'))).has('PATH')).to.equal(false);
  });

  it('keeps empty elements of other path variables, and exports with ":" even an unpathed one', () => {
    const values: Array<[string, string]> = [
      ['PYTHONPATH', '/a::/b:'],
      ['MANPATH', ':/usr/share/man'],
      ['LD_LIBRARY_PATH', ''],
      ['MYPATH', 'x:y'],
      ['NOT_A_PATH_VAR', 'a:b::c'],
    ];
    const { shell, env } = apply(
      { set: values, unset: [], prompt: keep },
      values.map(([n]) => n),
      'set -gx --unpath MYPATH before',
    );
    for (const [name, value] of values) {
      expect(env.get(name)?.toString(), `${name} in the environment`).to.equal(value);
      expect(shell.get(name)?.toString(), `${name} in the shell`).to.equal(value);
    }
  });

  it('needs no command cache reset: fish finds a command that appeared earlier on PATH', () => {
    const script = [
      SOURCE_IN_FUNCTION,
      `mkdir a b; printf '#!/bin/sh\\necho b\\n' > b/tool; chmod +x b/tool`,
      'set -gx PATH $PWD/a $PWD/b $PATH; tool; cp b/tool a/tool',
      `__blast_test_source '${join(dir.path, 'change.fish')}'`,
      'command -v tool',
    ].join('\n');
    writeFileSync(join(dir.path, 'change.fish'), fish.render({ set: [['X', '1']], unset: [], prompt: keep }));
    const result = runFish(script, { dir: dir.path });
    expect(result.stdout.toString()).to.equal(`b\n${join(dir.path, 'a', 'tool')}\n`);
  });
});

describe('what fish cannot hold', () => {
  it('leaves the variables fish keeps read-only alone, saying so, and applies the rest', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'change.fish');
      const names = ['status', 'PWD', 'SHLVL', 'fish_pid', 'version'];
      writeFileSync(
        file,
        fish.render({
          set: [...names.map((n) => [n, 'x'] as const), ['AFTER', 'yes']],
          unset: names,
          prompt: keep,
        }),
      );
      const result = runFish(`${SOURCE_IN_FUNCTION}\n__blast_test_source '${file}'\n${fishDump(['AFTER'])}`, {
        dir: dir.path,
      });
      expect(result.stderr.split('\n').filter(Boolean)).to.deep.equal(
        names.map((n) => `blast: fish keeps ${n} read-only; it is left as it is.`),
      );
      expect(parseDump(result.stdout, ['AFTER']).get('AFTER')?.toString()).to.equal('yes');
    } finally {
      dir.cleanup();
    }
  });
});
