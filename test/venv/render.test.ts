import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Interpreter } from '../../src/lib/python/index.js';
import { renderTemplate, type Placeholder } from '../../src/lib/venv/activate.js';
import { pyRepr, pyUnrepr, renderCfg } from '../../src/lib/venv/cfg.js';
import { consoleScript, shebang } from '../../src/lib/venv/scripts.js';
import { supportedByVersion } from '../python/world.js';

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
