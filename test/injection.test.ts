/**
 * Injection-proof, measured: hostile and seeded random values go through `blast start --env` of the
 * real CLI, the shell code it hands the shell function is sourced in the real shell, and every
 * value must come out byte for byte — no value may end a quote, run a command or lose a byte.
 * Then `blast kill` (the real CLI again, with the shell's environment) must take every one away.
 * The same for environment names and project paths full of quotes, `$(…)`, spaces and Unicode:
 * VIRTUAL_ENV and VIRTUAL_ENV_PROMPT arrive intact.
 *
 * Shells: bash and zsh (plugins/shell-bash), fish (plugins/shell-fish), and elvish through the
 * third-party example plugin. A shell whose adapter or program is missing is skipped, saying so.
 * BLAST_TEST_SEED=<n> reproduces a run.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shimDirFor } from './transaction/support.js';
import { blast, linkPlugin, REPO, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import {
  hasShell,
  HOSTILE_VALUES,
  parseEnv0,
  prng,
  randomValue,
  splitNul,
  testSeed,
} from './support/shells.js';

const RANDOM_PER_SHELL = 240;
const ELVISH_EXAMPLE = join(REPO, 'examples', 'blast-shell-elvish');

/** How to source a script and dump variables (set/unset, then the value; NUL-separated) in one shell. */
interface Dialect {
  name: string;
  program: string;
  /** argv before the script file. */
  argv: string[];
  /** A program that sources `script`, prints each variable of `names`, and writes `env -0` to `envFile`. */
  sourceAndDump(script: string, names: readonly string[], envFile: string): string;
  /** Code run before the script (elvish: the function's state namespace). */
  prelude?: string;
}

const sq = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;
const fq = (v: string) => `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const eq = (v: string) => `'${v.replaceAll("'", "''")}'`;

const posixDump = (names: readonly string[]) =>
  names.map(
    (n) => `if [ -n "\${${n}+x}" ]; then printf 'set\\0%s\\0' "$${n}"; else printf 'unset\\0\\0'; fi`,
  );

const DIALECTS: Dialect[] = [
  {
    name: 'bash',
    program: 'bash',
    argv: ['--norc', '--noprofile'],
    sourceAndDump: (script, names, envFile) =>
      ['set -u', `. ${sq(script)}`, ...posixDump(names), `env -0 > ${sq(envFile)}`].join('\n'),
  },
  {
    name: 'zsh',
    program: 'zsh',
    argv: ['-f'],
    sourceAndDump: (script, names, envFile) =>
      ['setopt nounset', `. ${sq(script)}`, ...posixDump(names), `env -0 > ${sq(envFile)}`].join('\n'),
  },
  {
    name: 'fish',
    program: 'fish',
    argv: ['--no-config'],
    sourceAndDump: (script, names, envFile) =>
      [
        `source ${fq(script)}`,
        `for n in ${names.join(' ')}`,
        "  if set -q $n; printf 'set\\0%s\\0' \"$$n\"; else; printf 'unset\\0\\0'; end",
        'end',
        `env -0 > ${fq(envFile)}`,
      ].join('\n'),
  },
  {
    name: 'elvish',
    program: 'elvish',
    argv: ['-norc'],
    // The function's own state namespace, from `blast init elvish` (written to init.elv beside the script).
    sourceAndDump: (script, names, envFile) =>
      [
        'var st = $nil',
        `eval (slurp < ${eq(join(script, '..', 'init.elv'))}) &on-end={|ns| set st = $ns[blast-state] }`,
        `eval &ns=$st (slurp < ${eq(script)})`,
        `for n [${names.join(' ')}] {`,
        '  if (has-env $n) { print \'set\'"\\x00"(get-env $n)"\\x00" } else { print \'unset\'"\\x00\\x00" }',
        '}',
        `e:env -0 > ${eq(envFile)}`,
      ].join('\n'),
  },
];

/** Hostile environment names (no `/`, `..` or control characters: those are refused). */
const HOSTILE_NAMES = [
  'my env',
  `it's "quoted"`,
  '$(touch pwned) `touch pwned` $HOME ${PATH}',
  'é ß 日本語 😀', // no bidi override or zero-width character: names refuse them (see secrets.test.ts)
  'semi;colon & amp | pipe > gt < lt',
  '%n%# !! !$ \\ back\\slash',
  'x -n \'\' "" end',
  "x'",
];

describe('injection: values, names and paths through the real CLI into real shells', function () {
  this.timeout(300_000);
  let box: Sandbox;
  let work: string;
  const seed = testSeed();

  before(() => {
    box = sandbox({ OCLIF_DISABLE_LINKED_ESM_WARNING: '1' });
    work = join(box.root, 'work');
    mkdirSync(work);
  });
  after(() => box.cleanup());

  /** Is the adapter there (fish lands in its own plugin; elvish needs the example linked and built)? */
  function adapterReady(dialect: Dialect): string | undefined {
    if (!hasShell(dialect.program)) return `${dialect.program} is not installed`;
    if (dialect.name === 'elvish') {
      const build = spawnSync('npx', ['tsc', '-b', ELVISH_EXAMPLE], { cwd: REPO, encoding: 'utf8' });
      if (build.status !== 0) return `the elvish example does not build: ${build.stdout}`;
      linkPlugin(box, ELVISH_EXAMPLE);
    }
    const init = blast(box, ['init', dialect.name]);
    if (init.status !== 0) return `blast init ${dialect.name} fails: ${init.stderr.trim()}`;
    if (dialect.name === 'elvish') writeFileSync(join(work, 'init.elv'), init.stdout);
    return undefined;
  }

  /** Source `code` in the shell with `env`; the dumped variables and the environment afterwards. */
  function source(dialect: Dialect, code: string, names: readonly string[], env: Record<string, string>) {
    const script = join(work, `script-${dialect.name}`);
    const envFile = join(work, `env-${dialect.name}`);
    const main = join(work, `main-${dialect.name}`);
    writeFileSync(script, code);
    writeFileSync(main, dialect.sourceAndDump(script, names, envFile));
    const run = spawnSync(dialect.program, [...dialect.argv, main], { cwd: work, env, timeout: 60_000 });
    expect(run.status, `${dialect.name}: ${run.stderr?.toString()}`).to.equal(0);
    expect(run.stderr.toString(), 'the shell complained').to.equal('');
    const parts = splitNul(run.stdout);
    const values = new Map<string, Buffer | undefined>();
    names.forEach((name, i) =>
      values.set(name, parts[2 * i]?.toString() === 'set' ? parts[2 * i + 1] : undefined),
    );
    const after: Record<string, string> = {};
    for (const [k, v] of parseEnv0(readFileSync(envFile))) after[k] = v.toString('utf8');
    return { values, env: after };
  }

  /** The first difference between what was sent and what arrived, readable; undefined when none. */
  function firstMismatch(sent: readonly string[], got: Map<string, Buffer | undefined>, prefix: string) {
    for (let i = 0; i < sent.length; i++) {
      const want = Buffer.from(sent[i]!, 'utf8');
      const have = got.get(`${prefix}${i}`);
      if (!have || !have.equals(want))
        return `${prefix}${i}: sent ${JSON.stringify(sent[i])}, got ${have === undefined ? 'unset' : JSON.stringify(have.toString('utf8'))}`;
    }
    return undefined;
  }

  for (const [index, dialect] of DIALECTS.entries()) {
    describe(dialect.name, () => {
      before(function () {
        const missing = adapterReady(dialect);
        // Every shell here is installed by .ci/run: a missing one is a failure, not a skip.
        if (missing) throw new Error(`${dialect.name} is not ready: ${missing}`);
      });

      it(`${HOSTILE_VALUES.length} hostile and ${RANDOM_PER_SHELL} random values (seed ${seed + index}) arrive byte for byte; kill takes them away`, () => {
        const random = prng(seed + index);
        const values = [
          ...HOSTILE_VALUES,
          ...Array.from({ length: RANDOM_PER_SHELL }, () => randomValue(random)),
        ];
        const names = values.map((_, i) => `VAL_${i}`);
        const flags = values.flatMap((v, i) => ['--env', `VAL_${i}=${v}`]);
        const started = throughFunction(box, ['start', `values-${dialect.name}`, ...flags], {
          shell: dialect.name,
          cwd: work,
        });
        expect(started.status, started.stderr).to.equal(0);
        const active = source(dialect, started.script, names, box.env);
        expect(firstMismatch(values, active.values, 'VAL_')).to.equal(undefined);
        expect(existsSync(join(work, 'pwned')), 'a value ran a command').to.equal(false);

        // kill, with the environment the shell had after start: every value goes, PATH comes back.
        const killed = throughFunction(box, ['kill'], { shell: dialect.name, cwd: work, env: active.env });
        expect(killed.status, killed.stderr).to.equal(0);
        const restored = source(
          dialect,
          killed.script,
          [...names, 'VIRTUAL_ENV', 'BLAST_SHELL_STATE'],
          active.env,
        );
        for (const [name, value] of restored.values) expect(value, `${name} after kill`).to.equal(undefined);
        expect(restored.env.PATH).to.equal(box.env.PATH);
        expect(existsSync(join(work, 'pwned'))).to.equal(false);
      });

      it(`environment names and project paths with quotes, $(…), spaces and Unicode`, () => {
        const cases: Array<{ args: string[]; path: string; prompt: string }> = HOSTILE_NAMES.map((name) => ({
          args: [name],
          path: join(box.blastHome, 'envs', name),
          prompt: name,
        }));
        const project = join(
          box.root,
          `proj ${HOSTILE_NAMES[1]} ${HOSTILE_NAMES[2]!.replaceAll('/', '')} é😀`,
        );
        cases.push({
          args: ['--path', join(project, '.venv')],
          path: join(project, '.venv'),
          prompt: project.split('/').pop()!,
        });
        const other = join(box.root, `local $(touch pwned) 'x'`);
        cases.push({ args: ['--path', other], path: other, prompt: `local $(touch pwned) 'x'` });
        for (const { args, path, prompt } of cases) {
          const started = throughFunction(box, ['start', ...args], { shell: dialect.name, cwd: work });
          expect(started.status, started.stderr).to.equal(0);
          const { values, env } = source(
            dialect,
            started.script,
            ['VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT'],
            box.env,
          );
          expect(values.get('VIRTUAL_ENV')?.toString('utf8'), args.join(' ')).to.equal(path);
          expect(values.get('VIRTUAL_ENV_PROMPT')?.toString('utf8'), args.join(' ')).to.equal(prompt);
          expect(env.PATH?.split(':').slice(0, 2)).to.deep.equal([
            shimDirFor(path, box.env),
            join(path, 'bin'),
          ]);
        }
        expect(existsSync(join(work, 'pwned')), 'a name ran a command').to.equal(false);
      });
    });
  }
});
