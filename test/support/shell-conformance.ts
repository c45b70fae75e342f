/**
 * The conformance suite every shell adapter runs: `describeShellAdapter(adapter, shell)` renders
 * the adapter's scripts and runs them in the real shell binary, then reads the shell's state back
 * byte for byte. What it covers is what every shell must do alike: the quoting round trip (hostile
 * and seeded random values, sourced inside a function and at top level), unset apart from empty,
 * ShellChange's keep/putBack, the prompt tag and its exact restore, PATH prepended and restored
 * exactly, and the subshell spec. What only one shell has (zsh options, fish lists, PowerShell's
 * typographic quotes) stays in that shell's own tests.
 *
 * `shell` says how to drive the shell: the adapter cannot, since reading a variable back, telling
 * unset from empty and showing a prompt are exactly what differs between shells.
 */
import { expect } from 'chai';
import type { ShellAdapter, ShellChange, SubshellContext } from 'blast/contract';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  HOSTILE_VALUES,
  cleanEnv,
  expectArrived,
  parseDump,
  parseEnv0,
  prng,
  randomValue,
  runShell,
  splitNul,
  tempDir,
  testSeed,
} from './shells.js';

export interface ConformanceShell {
  /** Runs a script file non-interactively, without the user's startup files (the file is appended). */
  argv: readonly string[];
  /** The script files' extension, e.g. `sh`, `fish`, `elv`. */
  ext: string;
  /** Code run first in every script (options). */
  setup?: string;
  /** Code that sources `file` the way the adapter's `blast` function does (inside the function). */
  source(file: string): string;
  /** Code that sources `file` at the top level (as a subshell's rc file does); default `source`. */
  sourceTop?(file: string): string;
  /**
   * Code printing, for each name, `set` then the value, or `unset` then nothing, each
   * NUL-terminated (test/support/shells.ts's posixDump format), as the shell itself sees them.
   */
  dump(names: readonly string[]): string;
  /** Code writing the output of `env -0`, as a child process sees its environment, to `file`. */
  envTo(file: string): string;
  /** Code exporting `name` with `value` (an environment variable). */
  exportVar(name: string, value: string): string;
  /** Code setting a shell-only, unexported variable; absent when the shell has none (PowerShell, elvish). */
  shellOnly?(name: string, value: string): string;
  /** Absent where the prompt exists only on a terminal (elvish's `$edit:prompt`). */
  prompt?: {
    /** Code defining the user's own prompt (one that shows something). */
    define: string;
    /** Code printing the prompt as the shell would show it, then a NUL. */
    shown: string;
    /** Code printing the prompt's definition (PS1's value, the prompt function's source), then a NUL. */
    definition: string;
    /** Code making VIRTUAL_ENV_DISABLE_PROMPT non-empty in the shell only (not exported). */
    disable: string;
  };
  /** Code that exits an interactive shell whose commands come from standard input. */
  exit?: string;
}

export interface ConformanceOptions {
  /** Names the describe block (default: the adapter's name). */
  label?: string;
  /** Runs the subshell spec in the real shell, commands on standard input (default true). */
  runSubshell?: boolean;
}

type Step = ShellChange | { code: string };

/**
 * Tags that would run code or show something else if they reached a prompt language: bash's and
 * zsh's (`\u`, `%n`, `!`), fish's (`(cmd)`, `{a,b}`, printf formats), PowerShell's quotes.
 */
export const HOSTILE_TAGS: readonly string[] = [
  '(demo) ',
  '($(touch pwned)) ',
  '((touch pwned)) ',
  '(`touch pwned`) ',
  '(${HOME} $HOME) ',
  '($HOME {a,b} ~ * ?) ',
  '(\\u \\w \\$ \\[ \\] \\\\) ',
  '(%n %~ %# %{ %} %%) ',
  '(%s %d %% \\n \\x41 \\\\) ',
  '(! !! \\!) ',
  `('"') `,
  `('"' \\' \\") `,
  '(; touch pwned; echo) ',
  '(日本 😀) ',
  '(\u2019 \u2018) ',
];

const INIT = {
  bin: '/nonexistent/blast',
  scriptVariable: 'BLAST_SHELL_SCRIPT',
  shellVariable: 'BLAST_SHELL',
  pidVariable: 'BLAST_SHELL_PID',
} as const;

const keep = { action: 'keep' } as const;
const change = (
  set: Array<readonly [string, string]>,
  unset: string[] = [],
  more: Partial<ShellChange> = {},
) => ({ set, unset, prompt: keep, ...more }) as ShellChange;

export function describeShellAdapter(
  adapter: ShellAdapter,
  shell: ConformanceShell,
  options: ConformanceOptions = {},
): void {
  const label = options.label ?? adapter.name;
  describe(`${label}: the shell adapter conformance suite`, function () {
    this.timeout(120_000);
    let dir: ReturnType<typeof tempDir>;
    beforeEach(() => (dir = tempDir()));
    afterEach(() => dir.cleanup());

    /**
     * Run `steps` in one shell (changes rendered into files and sourced, code as is), then `after`;
     * returns stdout's NUL records and the environment a child saw at the end.
     */
    function session(steps: Step[], after: string, top = false) {
      const lines = [shell.setup ?? ''];
      steps.forEach((step, i) => {
        if ('code' in step) return lines.push(step.code);
        const file = join(dir.path, `change-${i}.${shell.ext}`);
        writeFileSync(file, adapter.render(step));
        lines.push(top ? (shell.sourceTop ?? shell.source)(file) : shell.source(file));
      });
      const env0 = join(dir.path, 'env0');
      lines.push(after, shell.envTo(env0));
      const result = runShell(shell.argv, lines.join('\n') + '\n', {
        dir: dir.path,
        name: `script.${shell.ext}`,
      });
      expect(result.stderr, 'stderr').to.equal('');
      expect(result.status, 'status').to.equal(0);
      expect(existsSync(join(dir.path, 'pwned')), 'nothing ran').to.equal(false);
      return { stdout: result.stdout, env: parseEnv0(readFileSync(env0)) };
    }

    /** Apply `steps`, then read `names` back from the shell and from a child's environment. */
    function state(steps: Step[], names: readonly string[], top = false) {
      const { stdout, env } = session(steps, shell.dump(names), top);
      return { shell: parseDump(stdout, names), env };
    }

    function roundTrip(values: readonly string[], why: string, top = false) {
      const names = values.map((_, i) => `BLAST_T_${i}`);
      const got = state([change(values.map((v, i) => [names[i]!, v] as const))], names, top);
      expectArrived(values, names, got, why, dir.path);
    }

    describe('quoting', () => {
      it('render() round-trips the fixed hostile values', () => roundTrip(HOSTILE_VALUES, 'hostile'));

      it('render() round-trips them sourced at top level too (the subshell does that)', () =>
        roundTrip(HOSTILE_VALUES, 'hostile, top level', true));

      it('render() round-trips 250 seeded random values', () => {
        const seed = testSeed();
        const random = prng(seed + label.length);
        roundTrip(
          Array.from({ length: 250 }, () => randomValue(random)),
          `BLAST_TEST_SEED=${seed}`,
        );
      });

      it('quote() of each hostile value, set as a variable, reads back byte for byte', () => {
        const names = HOSTILE_VALUES.map((_, i) => `BLAST_Q_${i}`);
        const code = HOSTILE_VALUES.map((v, i) => shell.exportVar(names[i]!, adapter.quote(v)));
        const got = state([{ code: code.join('\n') }], names);
        expectArrived(HOSTILE_VALUES, names, got, 'quote', dir.path);
      });

      it('refuses a NUL in a value and an invalid name rather than splice it into code', () => {
        expect(() => adapter.quote('a\0b')).to.throw(/NUL/);
        expect(() => adapter.render(change([['A;touch pwned', 'x']]))).to.throw(/name/);
        expect(() => adapter.render(change([], ['$(x)']))).to.throw(/name/);
      });
    });

    describe('unset and empty', () => {
      it('keeps unset apart from empty, for exported variables and ones never set', () => {
        const before = [
          shell.exportVar('GONE', adapter.quote('1')),
          shell.exportVar('EMPTY_BEFORE', adapter.quote('x')),
        ].join('\n');
        const names = ['GONE', 'ALREADY_UNSET', 'EMPTY_BEFORE', 'NEW_EMPTY'];
        const got = state(
          [
            { code: before },
            change(
              [
                ['EMPTY_BEFORE', ''],
                ['NEW_EMPTY', ''],
              ],
              ['GONE', 'ALREADY_UNSET'],
            ),
          ],
          names,
        );
        for (const n of ['GONE', 'ALREADY_UNSET']) {
          expect(got.shell.get(n), `${n} in the shell`).to.equal(undefined);
          expect(got.env.has(n), `${n} in the environment`).to.equal(false);
        }
        for (const n of ['EMPTY_BEFORE', 'NEW_EMPTY']) {
          expect(got.shell.get(n)?.toString(), `${n} in the shell`).to.equal('');
          expect(got.env.get(n)?.toString(), `${n} in the environment`).to.equal('');
        }
      });

      if (shell.shellOnly) {
        const shellOnly = shell.shellOnly;
        it('unset removes a shell-only variable too', () => {
          const got = state(
            [{ code: shellOnly('LOCAL_ONLY', adapter.quote('2')) }, change([], ['LOCAL_ONLY'])],
            ['LOCAL_ONLY'],
          );
          expect(got.shell.get('LOCAL_ONLY')).to.equal(undefined);
          expect(got.env.has('LOCAL_ONLY')).to.equal(false);
        });
      }
    });

    describe('keep and putBack', () => {
      const value = "it's $(touch pwned) `x`\nline 2";
      const start = (name: string) => change([[name, 'env value']], [], { keep: [name] });
      const kill = (name: string) => change([], [name], { putBack: [name] });

      if (shell.shellOnly) {
        const shellOnly = shell.shellOnly;
        it("keep sets the variable aside, putBack gives the shell's own unexported value back", () => {
          const names = ['MINE'];
          const during = state([{ code: shellOnly('MINE', adapter.quote(value)) }, start('MINE')], names);
          expect(during.shell.get('MINE')?.toString(), 'while active, in the shell').to.equal('env value');
          expect(during.env.get('MINE')?.toString(), 'while active, exported').to.equal('env value');
          const after = state(
            [{ code: shellOnly('MINE', adapter.quote(value)) }, start('MINE'), start('MINE'), kill('MINE')],
            names,
          );
          expect(after.shell.get('MINE')?.toString(), 'after, the kept value').to.equal(value);
          expect(after.env.has('MINE'), 'after, not exported').to.equal(false);
        });

        it('putBack of a name that had no shell value unsets it', () => {
          const got = state([start('NONE'), kill('NONE')], ['NONE']);
          expect(got.shell.get('NONE')).to.equal(undefined);
          expect(got.env.has('NONE')).to.equal(false);
        });
      } else {
        it('keep/putBack are ignored: the variable is set, then unset', () => {
          const during = state([start('MINE')], ['MINE']);
          expect(during.env.get('MINE')?.toString()).to.equal('env value');
          const after = state([start('MINE'), kill('MINE')], ['MINE']);
          expect(after.shell.get('MINE')).to.equal(undefined);
          expect(after.env.has('MINE')).to.equal(false);
        });
      }
    });

    describe('PATH', () => {
      it('is prepended exactly, finds the new command first, and is restored exactly', () => {
        const bin = join(dir.path, 'env bin');
        mkdirSync(bin);
        writeFileSync(join(bin, 'blast_conformance_tool'), '#!/bin/sh\necho found\n');
        chmodSync(join(bin, 'blast_conformance_tool'), 0o755);
        const original = cleanEnv().PATH!;
        const prepended = `${bin}:${original}`;
        const during = session([change([['PATH', prepended]])], 'blast_conformance_tool');
        expect(during.stdout.toString()).to.equal('found\n');
        expect(during.env.get('PATH')?.toString(), 'PATH arrives joined with :').to.equal(prepended);
        const after = session([change([['PATH', prepended]]), change([['PATH', original]])], '');
        expect(after.env.get('PATH')?.toString()).to.equal(original);
      });
    });

    if (shell.prompt) {
      const prompt = shell.prompt;
      const tag = (t: string): ShellChange => change([], [], { prompt: { action: 'tag', tag: t } });
      const restore = change([], [], { prompt: { action: 'restore' } });
      const text = (steps: Step[]) => splitNul(session(steps, '').stdout).map((b) => b.toString('utf8'));

      describe('prompt', () => {
        it('shows every hostile tag literally before the prompt', () => {
          const steps: Step[] = [{ code: prompt.define }, { code: prompt.shown }];
          for (const t of HOSTILE_TAGS) steps.push(tag(t), { code: prompt.shown });
          const [original, ...shown] = text(steps);
          expect(original, 'the user prompt shows something').to.not.equal('');
          HOSTILE_TAGS.forEach((t, i) => expect(shown[i], t).to.equal(t + original));
        });

        it('a second tag replaces the first; restore gives the very definition back', () => {
          const [before, shown, after, again] = text([
            { code: prompt.define },
            { code: prompt.definition },
            tag('(a) '),
            tag('(b) '),
            { code: prompt.shown },
            restore,
            { code: prompt.definition },
            { code: prompt.shown },
          ]);
          expect(shown!.startsWith('(b) ') && !shown!.includes('(a) '), shown).to.equal(true);
          expect(after).to.equal(before);
          expect(shown).to.equal('(b) ' + again);
        });

        it('keep and a restore with nothing saved leave the prompt alone', () => {
          const [before, after] = text([
            { code: prompt.define },
            { code: prompt.definition },
            change([]),
            restore,
            { code: prompt.definition },
          ]);
          expect(after).to.equal(before);
        });

        it('leaves the prompt alone when VIRTUAL_ENV_DISABLE_PROMPT is non-empty in the shell', () => {
          const [before, after] = text([
            { code: prompt.define },
            { code: prompt.definition },
            { code: prompt.disable },
            tag('(a) '),
            { code: prompt.definition },
          ]);
          expect(after).to.equal(before);
        });
      });
    }

    describe('subshell', () => {
      const ctxFor = (ctxDir: string, activation: string): SubshellContext => ({
        ...INIT,
        activation,
        dir: ctxDir,
        home: join(dir.path, 'home'),
        env: {
          ...cleanEnv({ HOME: join(dir.path, 'home') }),
          BLAST_SHELL_SCRIPT: '/stale',
          BLAST_SHELL: 'x',
        },
      });

      it('drops the protocol variables and writes only inside its directory', () => {
        const ctxDir = join(dir.path, 'ctx');
        mkdirSync(ctxDir, { mode: 0o700 });
        const spec = adapter.subshell(ctxFor(ctxDir, adapter.render(change([['X', '1']]))));
        expect(spec.command, 'a command').to.be.a('string').and.not.equal('');
        expect(spec.env?.BLAST_SHELL_SCRIPT, 'BLAST_SHELL_SCRIPT dropped').to.equal(null);
        expect(spec.env?.BLAST_SHELL, 'BLAST_SHELL dropped').to.equal(null);
        for (const path of Object.keys(spec.files ?? {})) {
          expect(path.startsWith(ctxDir + '/'), path).to.equal(true);
        }
      });

      if (options.runSubshell !== false && shell.exit) {
        const exit = shell.exit;
        it('runs in the real shell: the activation applies, the protocol variables are gone', () => {
          const home = join(dir.path, 'home');
          mkdirSync(home);
          const ctxDir = join(dir.path, 'ctx');
          mkdirSync(ctxDir, { mode: 0o700 });
          const venv = join(dir.path, 'venv');
          const activation = adapter.render(
            change([
              ['VIRTUAL_ENV', venv],
              ['PATH', `${join(venv, 'bin')}:${cleanEnv().PATH}`],
            ]),
          );
          const ctx = ctxFor(ctxDir, activation);
          const spec = adapter.subshell(ctx);
          for (const [path, content] of Object.entries(spec.files ?? {})) {
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, content, { mode: 0o600 });
          }
          const env: Record<string, string> = {};
          for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v;
          for (const [k, v] of Object.entries(spec.env ?? {})) {
            if (v === null) delete env[k];
            else env[k] = v;
          }
          const env0 = join(dir.path, 'sub-env0');
          // From a file: node's `input` is a socket, which fish cannot read commands from.
          const input = join(dir.path, 'input');
          writeFileSync(input, `${shell.envTo(env0)}\n${exit}\n`);
          const fd = openSync(input, 'r');
          let result;
          try {
            result = spawnSync(spec.command, spec.args, {
              cwd: dir.path,
              env,
              stdio: [fd, 'pipe', 'pipe'],
              timeout: 60_000,
            });
          } finally {
            closeSync(fd);
          }
          expect(result.status, result.stderr?.toString()).to.equal(0);
          const got = parseEnv0(readFileSync(env0));
          expect(got.get('VIRTUAL_ENV')?.toString()).to.equal(venv);
          expect(got.get('PATH')?.toString().split(':')[0]).to.equal(join(venv, 'bin'));
          expect(got.has('BLAST_SHELL_SCRIPT'), 'BLAST_SHELL_SCRIPT').to.equal(false);
          expect(got.has('BLAST_SHELL'), 'BLAST_SHELL').to.equal(false);
        });
      }
    });
  });
}
