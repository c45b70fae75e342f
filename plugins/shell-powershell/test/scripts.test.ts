/**
 * Every script the adapter generates, parsed with the PowerShell grammar: no error or missing node,
 * no expanding string anywhere, every single-quoted string ended where PowerShell ends it — and then
 * read back: each variable's name and value, the tag, the CLI's path, decoded by PowerShell's rules,
 * must be exactly what was asked, for the fixed hostile values and for 250 seeded random ones.
 */
import { expect } from 'chai';
import type { InitContext, ShellChange, SubshellContext } from 'blast/contract';
import type { Node, Tree } from 'web-tree-sitter';
import { HOSTILE_VALUES, prng, randomValue, testSeed } from '../../../test/support/shells.js';
import { powershell } from '../src/adapter.js';
import { BOM } from '../src/subshell.js';
import { ACTIVATION, DEACTIVATION } from './support/changes.js';
import { checkScript, envCalls, literalValue, powershellParser, unwrap, walk } from './support/powershell.js';

const keep = { action: 'keep' } as const;
const CTX: InitContext = {
  bin: '/opt/blast/bin/run.js',
  scriptVariable: 'BLAST_SHELL_SCRIPT',
  shellVariable: 'BLAST_SHELL',
  pidVariable: 'BLAST_SHELL_PID',
};

/**
 * What means something to PowerShell in particular, which the shared generator does not produce:
 * above all the typographic single quotes, which end a single-quoted string like `'` does.
 */
const POWERSHELL_PIECES = [
  '\u2018',
  '\u2019',
  '\u201A',
  '\u201B',
  "'\u2019",
  '\u201C',
  '\u201D',
  '\u201E',
  '`',
  '`n',
  '`$',
  '$env:PATH',
  '${env:HOME}',
  '@args',
  '@(',
  '<#',
  '#>',
  '--%',
  '\u2013',
  '\u2014',
  '\uFEFF',
];

/** The shared fixed values, and the same again with PowerShell's own hostile pieces. */
const HOSTILE = [
  ...HOSTILE_VALUES,
  ...POWERSHELL_PIECES,
  'it\u2019s',
  '\u2019; New-Item pwned; \u2019',
  "\u2018'$(New-Item pwned)'\u2019",
  '\u201B\u201A\u2019\u2018',
  "@'\nhere\n'@",
];

/** A shared random value with 0–5 PowerShell pieces spliced in at code point boundaries. */
function randomPowerShellValue(random: () => number): string {
  const chars = Array.from(randomValue(random));
  for (let n = Math.floor(random() * 6); n > 0; n--) {
    const piece = POWERSHELL_PIECES[Math.floor(random() * POWERSHELL_PIECES.length)]!;
    chars.splice(Math.floor(random() * (chars.length + 1)), 0, piece);
  }
  return chars.join('');
}

function randomValues(salt: number, count = 250): { seed: number; values: string[] } {
  const seed = testSeed();
  const random = prng(seed + salt);
  return { seed, values: Array.from({ length: count }, () => randomPowerShellValue(random)) };
}

/** What a change must come back as from the script: unsets first, then sets, in order. */
function expectedCalls(change: ShellChange) {
  return [
    ...change.unset.map((name) => ({ name, value: undefined })),
    ...change.set.map(([name, value]) => ({ name, value: name === 'PATH' ? value.split(':') : value })),
  ];
}

/** Render, check, and compare every call with what was asked, value by value for a readable failure. */
async function checkRender(change: ShellChange, label: string): Promise<Tree> {
  const tree = await checkScript(powershell.render(change));
  const calls = envCalls(tree);
  const want = expectedCalls(change);
  expect(calls.length, `${label}: number of variable statements`).to.equal(want.length);
  want.forEach((w, i) => {
    const why = `${label}: statement #${i} (${w.name}) ${JSON.stringify(w.value)?.slice(0, 200)}`;
    expect(calls[i]!.name, why).to.equal(w.name);
    expect(calls[i]!.value, why).to.deep.equal(w.value);
  });
  // PATH: joined back with the core's ':' it is the core's value, byte for byte.
  for (const [i, [name, value]] of change.set.entries()) {
    const got = calls[change.unset.length + i]!.value;
    if (name === 'PATH') expect((got as string[]).join(':')).to.equal(value);
  }
  return tree;
}

/** `$global:NAME = '…'` assignments anywhere in the tree, decoded. */
function assignments(tree: Tree, variable: string): string[] {
  const found: string[] = [];
  for (const node of walk(tree.rootNode)) {
    if (node.type !== 'assignment_expression') continue;
    const [left, , right] = node.namedChildren;
    if (left && unwrap(left).text === variable && right) found.push(literalValue(unwrap(right)));
  }
  return found;
}

/** The programs the script runs with `& '…'`, decoded. */
function invoked(tree: Tree): string[] {
  const found: string[] = [];
  for (const node of walk(tree.rootNode)) {
    if (node.type !== 'command') continue;
    const [operator, name] = node.namedChildren as Node[];
    if (operator?.type === 'command_invokation_operator' && name?.type === 'command_name_expr') {
      const target = unwrap(name);
      if (target.type === 'string_literal') found.push(literalValue(target));
    }
  }
  return found;
}

describe('powershell scripts parse and say exactly what was asked', function () {
  this.timeout(200_000);
  before(() => powershellParser());

  describe('render', () => {
    it('sets the fixed hostile values, one variable each', async () => {
      await checkRender(
        { set: HOSTILE.map((v, i) => [`BLAST_T_${i}`, v] as const), unset: [], prompt: keep },
        'hostile',
      );
    });

    it('sets 250 seeded random values', async () => {
      const { seed, values } = randomValues(1);
      await checkRender(
        { set: values.map((v, i) => [`BLAST_T_${i}`, v] as const), unset: [], prompt: keep },
        `BLAST_TEST_SEED=${seed}`,
      );
    });

    it('renders each random value alone too, with every prompt action', async () => {
      const { seed, values } = randomValues(2, 200);
      const prompts = [keep, { action: 'restore' } as const, { action: 'tag', tag: '(x) ' } as const];
      for (const [i, value] of values.entries()) {
        await checkRender(
          { set: [['V', value]], unset: ['GONE'], prompt: prompts[i % 3]! },
          `BLAST_TEST_SEED=${seed} #${i}`,
        );
      }
    });

    it('writes PATH as its entries joined with the platform separator, hostile entries included', async () => {
      const { seed, values } = randomValues(3, 200);
      const paths = [
        '/venv/bin:/usr/local/bin:/usr/bin:/bin',
        '/only',
        '',
        ':',
        '/a::/b:',
        ...HOSTILE.filter((v) => v !== ''),
        ...values.map((v, i) => `/venv ${i}/bin:${v}:/usr/bin`),
      ];
      for (const [i, path] of paths.entries()) {
        await checkRender(
          { set: [['PATH', path]], unset: [], prompt: keep },
          `PATH #${i} BLAST_TEST_SEED=${seed}`,
        );
      }
    });

    it('unsets with [NullString]::Value and keeps an empty value a set', async () => {
      await checkRender(
        {
          set: [
            ['EMPTY', ''],
            ['PATH', '/venv/bin:/usr/bin'],
          ],
          unset: ['PYTHONHOME', 'GONE'],
          prompt: keep,
        },
        'unset and empty',
      );
    });

    it('writes a realistic activation and deactivation', async () => {
      await checkRender(ACTIVATION, 'activation');
      await checkRender(DEACTIVATION, 'deactivation');
    });

    it('renders nothing for an empty change', () => {
      expect(powershell.render({ set: [], unset: [], prompt: keep })).to.equal('');
    });
  });

  describe('prompt', () => {
    it('tags with the hostile and 250 random tags, each read back exactly', async () => {
      const { seed, values } = randomValues(4);
      for (const [i, tag] of [...HOSTILE, ...values].entries()) {
        const tree = await checkRender({ set: [], unset: [], prompt: { action: 'tag', tag } }, `tag #${i}`);
        expect(assignments(tree, '$global:_BLAST_PROMPT'), `tag #${i} BLAST_TEST_SEED=${seed}`).to.deep.equal(
          [tag],
        );
      }
    });

    it('parses the restore', async () => {
      await checkScript(powershell.render({ set: [], unset: [], prompt: { action: 'restore' } }));
    });
  });

  describe('init and rcLine', () => {
    it('parse with hostile and 250 random CLI paths, and run exactly that path', async () => {
      const { seed, values } = randomValues(5);
      for (const [i, bin] of [
        ...HOSTILE.filter((v) => v !== ''),
        ...values.filter((v) => v !== ''),
      ].entries()) {
        const why = `bin #${i} ${JSON.stringify(bin).slice(0, 100)} BLAST_TEST_SEED=${seed}`;
        expect(invoked(await checkScript(powershell.init({ ...CTX, bin }))), why).to.deep.equal([bin]);
        expect(invoked(await checkScript(powershell.rcLine!(bin))), why).to.deep.equal([bin]);
      }
    });

    it('sets the protocol variables by the names the core gives', async () => {
      const tree = await checkScript(powershell.init(CTX));
      const named = new Set<string>();
      for (const node of walk(tree.rootNode)) {
        if (node.type !== 'invokation_expression') continue;
        const [type, member, args] = node.namedChildren;
        if (
          type?.text === '[System.Environment]' &&
          /^[GS]etEnvironmentVariable$/.test(member?.text ?? '') &&
          args
        ) {
          const first = unwrap(args).namedChildren[0] ?? unwrap(args);
          named.add(literalValue(unwrap(first)));
        }
      }
      expect([...named].sort()).to.deep.equal(['BLAST_SHELL', 'BLAST_SHELL_PID', 'BLAST_SHELL_SCRIPT']);
    });
  });

  describe('subshell', () => {
    it('writes a script (BOM first) that parses, with hostile paths and activation', async () => {
      const { values } = randomValues(6, 20);
      for (const [i, v] of [...HOSTILE.slice(-30), ...values].entries()) {
        const ctx: SubshellContext = {
          ...CTX,
          bin: `/opt/${v}/run.js`,
          dir: `/tmp/blast-subshell-${i}`,
          home: '/home/u',
          env: { HOME: '/home/u', PATH: '/usr/bin' },
          activation: powershell.render({
            set: [
              ['PATH', `/envs/${v}/bin:/usr/bin`],
              ['VIRTUAL_ENV', `/envs/${v}`],
            ],
            unset: [],
            prompt: { action: 'tag', tag: `(${v}) ` },
          }),
        };
        const spec = powershell.subshell(ctx);
        const contents = Object.values(spec.files ?? {});
        expect(contents).to.have.length(1);
        expect(contents[0]!.startsWith(BOM), 'BOM').to.equal(true);
        const tree = await checkScript(contents[0]!.slice(1));
        expect(invoked(tree)).to.deep.equal([ctx.bin]);
        expect(assignments(tree, '$global:_BLAST_PROMPT')).to.deep.equal([`(${v}) `]);
      }
    });
  });
});
