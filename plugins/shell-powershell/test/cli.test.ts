/**
 * Through the real CLI (the built dist), as the `blast` function runs it with BLAST_SHELL=powershell:
 * `init powershell` prints the function; `start` with hostile `--env` values and `kill` hand over
 * PowerShell that parses, and whose variables, read back by PowerShell's quoting rules, are exactly
 * the values given — and, after kill, exactly what was there before.
 */
import { expect } from 'chai';
import { basename, join } from 'node:path';
import { shimDirFor } from '../../../test/transaction/support.js';
import { blast, BIN, sandbox, throughFunction, type Sandbox } from '../../../test/support/cli.js';
import { HOSTILE_VALUES, prng, randomValue, testSeed } from '../../../test/support/shells.js';
import { powershell } from '../src/adapter.js';
import { checkScript, envCalls, literalValue, powershellParser, unwrap, walk } from './support/powershell.js';

/** Apply the decoded calls to an environment as .NET would on Linux (PathSeparator ':'). */
function apply(
  env: Record<string, string>,
  script: Awaited<ReturnType<typeof checkScript>>,
): Record<string, string> {
  const next = { ...env };
  for (const { name, value } of envCalls(script)) {
    if (value === undefined) delete next[name];
    else next[name] = Array.isArray(value) ? value.join(':') : value;
  }
  return next;
}

/** The values of the `$global:_BLAST_PROMPT = '…'` assignments in a script, decoded. */
function tags(script: Awaited<ReturnType<typeof checkScript>>): string[] {
  const found: string[] = [];
  for (const node of walk(script.rootNode)) {
    if (node.type !== 'assignment_expression') continue;
    const [left, , right] = node.namedChildren;
    if (left && unwrap(left).text === '$global:_BLAST_PROMPT' && right)
      found.push(literalValue(unwrap(right)));
  }
  return found;
}

/**
 * Environment names a user may choose (no `/`, `..`, control or invisible characters or leading `-`/`.`: those
 * are refused) with what PowerShell would read as code in them: its five single quotes, `$(…)`,
 * `$variables`, backticks, `@(…)`, comments, and Unicode.
 */
const HOSTILE_NAMES = [
  'my env',
  `it's "quoted"`,
  'it\u2019s \u2018typographic\u2019 \u201Aand\u201B',
  "\u2019; New-Item pwned; '",
  '$(New-Item pwned) `$HOME ${PWD} $PROFILE', // no ":": a venv path cannot hold the PATH separator
  '@(1) <# c #> # c --% & | ; >',
  'é ß 日本語 😀', // no bidi override or zero-width character: names refuse them (see secrets.test.ts)
  "x'",
];

describe('powershell through the real CLI', function () {
  this.timeout(200_000);
  let box: Sandbox;
  before(() => powershellParser());
  beforeEach(() => (box = sandbox()));
  afterEach(() => box.cleanup());

  it('blast init powershell prints the function for this CLI', async () => {
    const run = blast(box, ['init', 'powershell']);
    expect(run.stderr).to.equal('');
    expect(run.status).to.equal(0);
    expect(run.stdout).to.equal(
      powershell.init({
        bin: BIN,
        scriptVariable: 'BLAST_SHELL_SCRIPT',
        shellVariable: 'BLAST_SHELL',
        pidVariable: 'BLAST_SHELL_PID',
      }),
    );
    await checkScript(run.stdout);
    // pwsh is the same shell.
    expect(blast(box, ['init', 'pwsh']).stdout).to.equal(run.stdout);
  });

  it('start and kill hand over hostile --env values byte for byte, then restore exactly', async () => {
    const seed = testSeed();
    const random = prng(seed + 7);
    const values = [
      ...HOSTILE_VALUES.filter((v) => v.length < 1000),
      'it\u2019s \u2018quoted\u2019 \u201Aand\u201B',
      "\u2019; New-Item pwned; '",
      ...Array.from({ length: 220 }, () => randomValue(random)),
    ];
    const names = values.map((_, i) => `PS_T_${i}`);
    const before = { ...box.env, PS_T_0: 'was set before', PATH: `/opt/it\u2019s/bin:${box.env.PATH}` };
    const start = throughFunction(
      box,
      ['start', 'demo', ...values.flatMap((v, i) => ['--env', `${names[i]}=${v}`])],
      {
        shell: 'powershell',
        env: before,
      },
    );
    expect(start.status, start.stderr).to.equal(0);
    const started = await checkScript(start.script);
    const after = apply(before, started);
    values.forEach((v, i) => {
      expect(after[names[i]!], `BLAST_TEST_SEED=${seed} value #${i} ${JSON.stringify(v)}`).to.equal(v);
    });
    const venv = after.VIRTUAL_ENV!;
    expect(venv).to.equal(join(box.blastHome, 'envs', 'demo'));
    expect(after.PATH).to.equal(`${shimDirFor(venv, box.env)}:${join(venv, 'bin')}:${before.PATH}`);
    expect(start.script).to.include("$global:_BLAST_PROMPT = '(demo) '");

    const kill = throughFunction(box, ['kill'], { shell: 'powershell', env: after });
    expect(kill.status, kill.stderr).to.equal(0);
    const restored = apply(after, await checkScript(kill.script));
    expect(restored).to.deep.equal(before);
    expect(kill.script).to.include('${function:global:prompt} = $global:_BLAST_OLD_PROMPT');
  });

  it('environment names and project paths with spaces, quotes, $(), backticks and Unicode arrive byte for byte', async () => {
    const project = join(box.root, `proj it\u2019s '$(New-Item pwned)' \`$HOME é😀`);
    const cases: Array<{ args: string[]; path: string; prompt: string }> = [
      ...HOSTILE_NAMES.map((name) => ({
        args: [name],
        path: join(box.blastHome, 'envs', name),
        prompt: name,
      })),
      // A project's .venv is named after the project.
      { args: ['--path', join(project, '.venv')], path: join(project, '.venv'), prompt: basename(project) },
      // A name of its own for a project-local environment.
      {
        args: [HOSTILE_NAMES[3]!, '--path', join(project, 'env')],
        path: join(project, 'env'),
        prompt: HOSTILE_NAMES[3]!,
      },
    ];
    for (const { args, path, prompt } of cases) {
      const why = JSON.stringify(args);
      const start = throughFunction(box, ['start', ...args], { shell: 'powershell' });
      expect(start.status, `${why}: ${start.stderr}`).to.equal(0);
      const script = await checkScript(start.script);
      const after = apply(box.env, script);
      expect(after.VIRTUAL_ENV, why).to.equal(path);
      expect(after.VIRTUAL_ENV_PROMPT, why).to.equal(prompt);
      expect(after.PATH!.split(':').slice(0, 2), why).to.deep.equal([
        shimDirFor(path, box.env),
        join(path, 'bin'),
      ]);
      expect(tags(script), why).to.deep.equal([`(${prompt}) `]);
    }
  });
});
