/**
 * venv's habits through the real CLI in real bash, zsh and fish: `deactivate` while a Blast
 * environment is active is `blast kill` (the user's own function or alias kept aside and given
 * back), `pydoc` is the environment's, PKG_CONFIG_PATH gets the environment's pkgconfig directory
 * first and is given back exactly (unset, empty or set), and bash with hashing off (`set +h`)
 * prints nothing on start or kill.
 */
import { expect } from 'chai';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blast, createAndLeave, sandbox, type Sandbox } from './support/cli.js';
import { hasShell, parseDump, posixDump, runShell } from './support/shells.js';

const SLOW = 180_000;

interface Dialect {
  name: string;
  argv: string[];
  file: string;
  /** Code that prints `set\0VALUE\0` or `unset\0\0` for a variable. */
  dump(name: string): string;
  /** Code that sets a variable to a state: undefined → unset. */
  assign(name: string, value: string | undefined): string;
  /** Code that prints `yes` when a function or alias NAME exists (not a program), else `no`. */
  defined(name: string): string;
  ownFunction(name: string, text: string): string;
}

const sq = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;
const fq = (v: string) => `'${v.replace(/[\\']/g, '\\$&')}'`;

const POSIX = (name: 'bash' | 'zsh', argv: string[]): Dialect => ({
  name,
  argv,
  file: `script.${name}`,
  dump: (n) => posixDump([n]),
  assign: (n, v) => (v === undefined ? `unset ${n}` : `export ${n}=${sq(v)}`),
  defined: (n) =>
    name === 'bash'
      ? `if declare -F ${n} >/dev/null || alias ${n} >/dev/null 2>&1; then echo yes; else echo no; fi`
      : `if (( $+functions[${n}] || $+aliases[${n}] )); then echo yes; else echo no; fi`,
  ownFunction: (n, text) => `function ${n} { printf '%s\\n' ${sq(text)}; }`,
});

const DIALECTS: Dialect[] = [
  POSIX('bash', ['bash', '--norc', '--noprofile']),
  POSIX('zsh', ['zsh', '-f']),
  {
    name: 'fish',
    argv: ['fish', '--no-config'],
    file: 'script.fish',
    dump: (n) => `if set -q ${n}; printf 'set\\0%s\\0' "$${n}"; else; printf 'unset\\0\\0'; end`,
    assign: (n, v) => (v === undefined ? `set -e ${n}` : `set -gx ${n} ${fq(v)}`),
    defined: (n) => `if functions -q ${n}; echo yes; else; echo no; end`,
    ownFunction: (n, text) => `function ${n}; printf '%s\\n' ${fq(text)}; end`,
  },
];

describe('venv habits in the shell: deactivate, pydoc, PKG_CONFIG_PATH, set +h', function () {
  this.timeout(SLOW);
  let box: Sandbox;
  let alpha: string;

  before(function () {
    box = sandbox();
    createAndLeave(box, 'alpha');
    alpha = join(box.blastHome, 'envs', 'alpha');
    // A module only the environment's Python finds: the pydoc that documents it is the environment's.
    const lib = join(alpha, 'lib');
    const site = join(
      lib,
      readdirSync(lib).find((d) => d.startsWith('python'))!,
      'site-packages',
    );
    writeFileSync(join(site, 'blast_pydoc_probe.py'), '"""Only in alpha: PROBE-DOC-7731."""\n');
  });
  after(() => box?.cleanup());

  for (const d of DIALECTS) {
    describe(d.name, function () {
      let init: string;
      before(function () {
        if (!hasShell(d.name)) this.skip();
        const printed = blast(box, ['init', d.name]);
        expect(printed.status, printed.stderr).to.equal(0);
        init = join(box.root, `init.${d.name}`);
        writeFileSync(init, printed.stdout);
      });

      const run = (code: string) => {
        const source = d.name === 'fish' ? `source ${fq(init)}` : `. ${sq(init)}`;
        const result = runShell(d.argv, `${source}\n${code}\n`, {
          dir: box.root,
          env: box.env,
          name: d.file,
        });
        return { ...result, out: result.stdout.toString('utf8') };
      };

      it("deactivate is blast kill while active; the user's own function comes back after", () => {
        const r = run(
          [
            d.defined('deactivate'),
            d.ownFunction('deactivate', 'mine'),
            'blast start alpha',
            d.dump('VIRTUAL_ENV'),
            'deactivate',
            d.dump('VIRTUAL_ENV'),
            'deactivate',
          ].join('\n'),
        );
        expect(r.status, r.stderr).to.equal(0);
        // The init code defines none (a plain venv's own deactivate is not touched outside Blast).
        expect(r.out.startsWith('no\n'), r.out).to.equal(true);
        const rest = Buffer.from(r.out.slice(3));
        const [active, after] = [...parseDump(rest, ['A', 'B']).values()];
        expect(active?.toString()).to.equal(alpha);
        expect(after).to.equal(undefined);
        expect(r.out.endsWith('mine\n'), r.out).to.equal(true);
      });

      it('deactivate without a function of the user: gone again after kill', () => {
        const r = run(
          ['blast start alpha', 'deactivate', d.dump('VIRTUAL_ENV'), d.defined('deactivate')].join('\n'),
        );
        expect(r.status, r.stderr).to.equal(0);
        expect(r.out).to.equal('unset\0\0no\n');
      });

      if (d.name !== 'fish') {
        it("a user's alias deactivate is kept aside and given back", () => {
          const r = run(
            [
              d.name === 'bash' ? 'shopt -s expand_aliases' : '',
              'alias deactivate=\'printf "%s\\n" myalias\'',
              'blast start alpha',
              'eval deactivate',
              d.dump('VIRTUAL_ENV'),
              'eval deactivate',
            ].join('\n'),
          );
          expect(r.status, r.stderr).to.equal(0);
          expect(r.out).to.equal('unset\0\0myalias\n');
        });
      }

      it("pydoc is the environment's python -m pydoc while active, and gone after kill", () => {
        const r = run(
          ['blast start alpha', 'pydoc blast_pydoc_probe', 'blast kill', d.defined('pydoc')].join('\n'),
        );
        expect(r.status, r.stderr).to.equal(0);
        expect(r.out).to.include('PROBE-DOC-7731');
        expect(r.out.endsWith('no\n'), r.out).to.equal(true);
      });

      for (const [label, value] of [
        ['unset', undefined],
        ['empty', ''],
        ['set', '/opt/x/pkgconfig:/opt/y/pkgconfig'],
      ] as const) {
        it(`PKG_CONFIG_PATH ${label}: the environment's pkgconfig first while active, exactly as it was after kill`, () => {
          const r = run(
            [
              d.assign('PKG_CONFIG_PATH', value),
              'blast start alpha',
              d.dump('PKG_CONFIG_PATH'),
              'blast kill',
              d.dump('PKG_CONFIG_PATH'),
            ].join('\n'),
          );
          expect(r.status, r.stderr).to.equal(0);
          const [during, after] = [...parseDump(r.stdout, ['A', 'B']).values()];
          const own = join(alpha, 'lib', 'pkgconfig');
          expect(during?.toString()).to.equal(value ? `${own}:${value}` : own);
          expect(after?.toString()).to.equal(value);
        });
      }
    });
  }

  it('bash with hashing off (set +h): start and kill print nothing', function () {
    const printed = blast(box, ['init', 'bash']);
    const r = runShell(
      ['bash', '--norc', '--noprofile'],
      `${printed.stdout}\nset +h\nblast start alpha\nblast kill\nprintf 'status=%s\\n' "$?"\n`,
      { dir: box.root, env: box.env, name: 'hash.bash' },
    );
    expect(r.stderr).to.equal('');
    expect(r.stdout.toString()).to.equal('status=0\n');
  });
});
