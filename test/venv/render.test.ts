import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Interpreter } from '../../src/lib/python/index.js';
import { renderTemplate, type Placeholder } from '../../src/lib/venv/activate.js';
import { pyRepr, pyUnrepr, renderCfg } from '../../src/lib/venv/cfg.js';
import { consoleScript, shebang } from '../../src/lib/venv/scripts.js';
import { supportedByVersion } from '../python/world.js';
import { sandbox, throughFunction, type Sandbox } from '../support/cli.js';

const HOSTILE = [
  'plain',
  'with space',
  `it's`,
  'say "hi"',
  'cost $HOME and ${x} and $(echo pwn)',
  'back`tick`',
  'back\\slash\\n',
  'bang! !! !$',
  "tri'''ple",
  'new\nline',
  'ünïcödé 🐍',
  '-leading-dash',
  '*?[glob]',
  '%percent',
];

function values(v: string): Record<Placeholder, string> {
  return { __VENV_DIR__: v, __VENV_NAME__: v, __VENV_PROMPT__: v, __VENV_BIN_NAME__: v, __VENV_PYTHON__: v };
}

const has = (shell: string) => spawnSync(shell, ['-c', 'true']).status === 0;

describe('activation template rendering', () => {
  it('quotes each placeholder for its context so bash reads the value back exactly', () => {
    const template = [
      'A="__VENV_DIR__"',
      "B='__VENV_DIR__'",
      'C=__VENV_DIR__',
      'D="x__VENV_PROMPT__y"',
      'E="pre/"__VENV_BIN_NAME__":post"',
      '# a comment mentioning __VENV_NAME__',
      'printf "%s\\0" "$A" "$B" "$C" "$D" "$E"',
    ].join('\n');
    for (const v of HOSTILE) {
      const script = renderTemplate(template, 'sh', values(v));
      const out = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\0');
      expect(out.slice(0, 5), JSON.stringify(v)).to.deep.equal([v, v, v, `x${v}y`, `pre/${v}:post`]);
    }
  });

  it('does the same for fish', function () {
    if (!has('fish')) this.skip();
    const template = [
      'set -l A "__VENV_DIR__"',
      "set -l B '__VENV_DIR__'",
      'set -l C __VENV_DIR__',
      'set -l D "x__VENV_PROMPT__y"',
      'printf "%s\\0" "$A" "$B" "$C" "$D"',
    ].join('\n');
    for (const v of HOSTILE) {
      const script = renderTemplate(template, 'fish', values(v));
      const out = execFileSync('fish', ['-c', script], { encoding: 'utf8' }).split('\0');
      expect(out.slice(0, 4), JSON.stringify(v)).to.deep.equal([v, v, v, `x${v}y`]);
    }
  });

  it('does the same for csh', function () {
    const csh = ['tcsh', 'csh'].find(has);
    if (!csh) this.skip();
    const template = [
      'setenv A "__VENV_DIR__"',
      'setenv B __VENV_DIR__',
      'printf "%s\\0%s\\0" "$A" "$B"',
    ].join('\n');
    for (const v of HOSTILE.filter((s) => !s.includes('\n'))) {
      const script = renderTemplate(template, 'csh', values(v));
      const file = join(tmpdir(), `blast-csh-${process.pid}.csh`);
      writeFileSync(file, script);
      try {
        const out = execFileSync(csh, ['-f', file], { encoding: 'utf8' }).split('\0');
        expect(out.slice(0, 2), JSON.stringify(v)).to.deep.equal([v, v]);
      } finally {
        rmSync(file, { force: true });
      }
    }
  });

  it('leaves templates without placeholders alone', () => {
    const text = 'echo "$VIRTUAL_ENV"\n';
    expect(renderTemplate(text, 'sh', values('x'))).to.equal(text);
  });
});

describe('pyvenv.cfg', () => {
  let py: Interpreter | undefined;
  before(async () => {
    py = (await supportedByVersion()).at(-1);
  });

  it("writes the prompt as Python's repr and reads it back", function () {
    if (!py) this.skip();
    const samples = [...HOSTILE, '', '\t\r\x07\x7f', '\u200b\u2028', 'both \' and "'];
    const script = 'import json, sys\nfor s in json.load(sys.stdin): print(repr(s))';
    const reprs = execFileSync(py.realpath, ['-c', script], {
      input: JSON.stringify(samples),
      encoding: 'utf8',
    })
      .split('\n')
      .slice(0, samples.length);
    samples.forEach((s, k) => {
      expect(pyRepr(s), JSON.stringify(s)).to.equal(reprs[k]);
      expect(pyUnrepr(pyRepr(s)), JSON.stringify(s)).to.equal(s);
    });
  });

  it('keeps one key per line whatever the prompt', () => {
    const text = renderCfg({
      home: '/opt/py/bin',
      version: '3.12.1',
      executable: '/opt/py/bin/python3.12',
      invokedAs: '/opt/py/bin/python3',
      dir: '/tmp/env',
      prompt: 'a\nb = c',
    });
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' = ')[0]),
    ).to.deep.equal(['home', 'include-system-site-packages', 'version', 'prompt', 'executable', 'command']);
  });
});

describe('console script shebangs', () => {
  let root: string;
  let py: Interpreter | undefined;

  before(async () => {
    py = (await supportedByVersion()).at(-1);
    root = mkdtempSync(join(tmpdir(), 'blast-shebang-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('runs for any path: plain, spaces, quotes, $, backslash, newline, very long', function () {
    if (!py) this.skip();
    const names = [...HOSTILE, 'x'.repeat(150)];
    for (const [k, name] of names.entries()) {
      const bin = join(root, String(k), name, 'bin');
      mkdirSync(bin, { recursive: true });
      const python = join(bin, 'python3');
      symlinkSync(py.realpath, python);
      const script = join(bin, 'tool');
      writeFileSync(script, shebang(python) + 'import sys\nprint(sys.executable)\nprint(sys.argv[1:])\n');
      chmodSync(script, 0o755);
      const out = execFileSync(script, ['a b', "c'd"], { encoding: 'utf8' });
      expect(out, JSON.stringify(name)).to.equal(`${python}\n['a b', "c'd"]\n`);
    }
  });

  it('writes scripts that import and call the entry point', function () {
    if (!py) this.skip();
    const text = consoleScript('/x/bin/python3', 'pip._internal.cli.main', 'main');
    expect(text).to.equal(
      '#!/x/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom pip._internal.cli.main import main\n' +
        "if __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n",
    );
  });
});

describe('bin/activate* of an environment with a hostile name, sourced in real interactive shells', function () {
  this.timeout(300_000);
  // Each piece would run (a file appears) or turn into something else (%n: the user name) if the
  // prompt were expanded with the name in it as code.
  const NAME = `$(touch pwned) \`touch pwned\` %n \\u 'q' "dq"`;
  const SHELLS: Array<{ program: string; argv: string[]; script: string; setup: string[]; status: string }> =
    [
      { program: 'bash', argv: ['--norc', '--noprofile', '-i'], script: 'activate', setup: [], status: '$?' },
      // PROMPT_SUBST (set by oh-my-zsh and many themes) expands $(…) in the prompt at every display.
      {
        program: 'zsh',
        argv: ['-f', '-i'],
        script: 'activate',
        setup: ['setopt prompt_subst'],
        status: '$?',
      },
      { program: 'fish', argv: ['--no-config', '-i'], script: 'activate.fish', setup: [], status: '$status' },
      { program: 'tcsh', argv: ['-f', '-i'], script: 'activate.csh', setup: [], status: '$status' },
    ];
  let box: Sandbox;
  let pythons: Interpreter[] = [];
  before(async () => {
    box = sandbox();
    const all = await supportedByVersion();
    // The oldest and the newest template families (3.8's env_name, 3.13's VIRTUAL_ENV_PROMPT first).
    pythons = [...new Set([all[0], all.find((p) => p.version.startsWith('3.11.')), all.at(-1)])].filter(
      (p): p is Interpreter => p !== undefined,
    );
  });
  after(() => box.cleanup());

  it('creates no file and shows the name as it is, in bash, zsh with PROMPT_SUBST, fish and tcsh', function () {
    expect(pythons.length).to.be.greaterThan(0);
    for (const py of pythons) {
      const work = join(box.root, `work-${py.version}`);
      mkdirSync(work);
      const venv = join(work, NAME);
      const started = throughFunction(box, ['start', '--path', venv, '--python', py.executable], {
        cwd: work,
      });
      expect(started.status, started.stderr).to.equal(0);
      for (const shell of SHELLS) {
        expect(has(shell.program), `${shell.program} is installed by .ci/run`).to.equal(true);
        const input = [
          ...shell.setup,
          `source "$VENV/bin/${shell.script}"`,
          `echo "sourced:${shell.status}"`,
          'exit',
          '',
        ].join('\n');
        const command = [shell.program, ...shell.argv].join(' ');
        const run = spawnSync('script', ['-qec', command, '/dev/null'], {
          cwd: work,
          env: { ...cleanEnvFor(box), VENV: venv },
          input,
          encoding: 'utf8',
          timeout: 60_000,
        });
        const output = run.stdout.replaceAll('\r', '');
        const what = `${shell.program} sourcing ${shell.script} of Python ${py.version}`;
        expect(output, `${what}:\n${output}`).to.include('sourced:0');
        expect(readdirSync(work).sort(), `${what} ran a command from the name`).to.deep.equal([NAME]);
        // 3.8's activate.csh shows [name], every other template (name).
        const shown = output.includes(`(${NAME})`) || output.includes(`[${NAME}]`);
        expect(shown, `${what} shows the name as it is:\n${output}`).to.equal(true);
      }
    }
  });
});

/** The sandbox's variables without the test runner's shell state (a prompt, an activation). */
function cleanEnvFor(box: Sandbox): Record<string, string> {
  const env: Record<string, string> = { ...box.env, TERM: 'xterm' };
  for (const name of ['PS1', 'PROMPT', 'VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT', 'VIRTUAL_ENV_DISABLE_PROMPT'])
    delete env[name];
  return env;
}
