/**
 * fish completions, run by real fish (`complete -C` computes what Tab would offer for a command
 * line): first from a model with every awkward case — multi-word commands, flags that take values,
 * fixed option lists, a hostile CLI path, hostile names and descriptions — then from the real CLI,
 * whose `init fish` output is what users source.
 */
import { expect } from 'chai';
import type { CompletionModel } from 'blast/contract';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, blast, sandbox, throughFunction, type Sandbox } from '../../../test/support/cli.js';
import { cleanEnv, tempDir } from '../../../test/support/shells.js';
import { fish } from '../src/adapters.js';
import { runFish } from './fish.js';

const MODEL: CompletionModel = {
  commands: [
    {
      id: 'start',
      summary: 'Create and activate an environment.',
      flags: [
        { name: 'python', char: 'p', summary: 'the interpreter', takesValue: true },
        { name: 'path', summary: 'a directory', takesValue: true },
        { name: 'json', summary: `it's "json" $(touch pwned)`, takesValue: false },
      ],
    },
    { id: 'status', summary: 'Say things.', flags: [] },
    { id: 'kill', summary: '', flags: [{ name: 'force', char: 'f', summary: 'really', takesValue: false }] },
    { id: 'plugins', summary: 'List plugins.', flags: [] },
    {
      id: 'plugins link',
      summary: 'Link a plugin.',
      flags: [{ name: 'install', summary: 'install it', takesValue: false }],
    },
    { id: 'topic only', summary: 'Under a topic that is no command.', flags: [] },
    {
      id: 'init',
      summary: 'Print the function.',
      flags: [
        {
          name: 'mode',
          summary: 'a mode',
          takesValue: true,
          options: ['a b', '$HOME', '(touch pwned)', "it's"],
        },
      ],
    },
  ],
  listEnvironments: ['list', '--names'],
  envArgumentCommands: ['start', 'kill'],
};

const ENVS = ['demo', 'with space', "q'uote", '$(touch pwned)', 'dollar$HOME'];

describe('fish completions from the model', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  let init: string;
  before(() => {
    dir = tempDir();
    // A CLI at a hostile path that lists environments (and would leave a mark if run otherwise).
    const cliDir = join(dir.path, `cli 'q' "dq" $(touch pwned) (touch pwned) \\`);
    mkdirSync(cliDir, { recursive: true });
    const bin = join(cliDir, 'blast');
    const names = ENVS.map((n) => `'${n.replaceAll("'", `'\\''`)}'`).join(' ');
    writeFileSync(bin, `#!/bin/sh\n[ "$1 $2" = 'list --names' ] && printf '%s\\n' ${names}\n`);
    chmodSync(bin, 0o755);
    init = join(dir.path, 'init.fish');
    writeFileSync(
      init,
      fish.init({
        bin,
        scriptVariable: 'BLAST_SHELL_SCRIPT',
        shellVariable: 'BLAST_SHELL',
        pidVariable: 'BLAST_SHELL_PID',
        completion: MODEL,
      }),
    );
  });
  after(() => dir.cleanup());

  /** What fish offers for each command line: candidates with their descriptions. */
  function offers(...lines: string[]): string[][] {
    const script = [
      `builtin source '${init}'`,
      ...lines.map((l) => `complete -C ${fish.quote(l)}; printf '\\0'`),
    ].join('\n');
    const result = runFish(script, { dir: dir.path, env: cleanEnv() });
    expect(result.stderr, 'stderr').to.equal('');
    expect(existsSync(join(dir.path, 'pwned')), 'nothing ran').to.equal(false);
    const out = result.stdout.toString('utf8').split('\0');
    return out.slice(0, lines.length).map((o) => o.split('\n').filter(Boolean));
  }
  const words = (candidates: string[]) => candidates.map((c) => c.split('\t')[0]!);

  it('offers the commands with their summaries when none is typed yet', () => {
    const [all, st] = offers('blast ', 'blast st');
    expect(all).to.include.members([
      'start\tCreate and activate an environment.',
      'plugins\tList plugins.',
      'kill',
      'topic',
    ]);
    expect(words(all!)).to.not.include('link');
    expect(words(st!)).to.deep.equal(['start', 'status']);
  });

  it('offers the next word of multi-word commands, and their flags', () => {
    const [plugins, topic, link] = offers('blast plugins ', 'blast topic ', 'blast plugins link --');
    expect(plugins).to.deep.equal(['link\tLink a plugin.']);
    expect(topic).to.deep.equal(['only\tUnder a topic that is no command.']);
    expect(link).to.deep.equal(['--install\tinstall it']);
  });

  it("offers each command's flags, long and short, with literal descriptions", () => {
    const [py, dash, kill] = offers('blast start --py', 'blast start -', 'blast kill -');
    expect(py).to.deep.equal(['--python\tthe interpreter']);
    expect(dash).to.include.members([
      '-p\tthe interpreter',
      '--python\tthe interpreter',
      '--path\ta directory',
      `--json\tit's "json" $(touch pwned)`,
    ]);
    expect(words(kill!)).to.include.members(['-f', '--force']);
  });

  it("offers a flag's fixed options literally, and paths for a flag that takes a path", () => {
    mkdirSync(join(dir.path, 'somedir'), { recursive: true });
    const [mode, path] = offers('blast init --mode ', 'blast start --path som');
    expect(words(mode!)).to.deep.equal(['$HOME', '(touch pwned)', 'a b', "it's"].sort());
    expect(path).to.deep.equal(['somedir/']);
  });

  it('offers environment names for the first argument of the commands that take one', () => {
    const [start, afterValue, afterValueEq, kill, second, filtered, ended, other] = offers(
      'blast start ',
      'blast start --python 3.12 ',
      'blast start --python=3.12 ',
      'blast kill -f ',
      'blast start demo ',
      "blast start q'",
      'blast start -- ',
      'blast status ',
    );
    const all = [...ENVS].sort();
    expect(words(start!).sort()).to.deep.equal(all);
    expect(start!.every((c) => c.endsWith('\tenvironment'))).to.equal(true);
    expect(words(afterValue!).sort()).to.deep.equal(all);
    expect(words(afterValueEq!).sort()).to.deep.equal(all);
    expect(words(kill!).sort()).to.deep.equal(all);
    expect(second).to.deep.equal([]);
    expect(words(filtered!)).to.deep.equal(["q'uote"]);
    expect(words(ended!).sort()).to.deep.equal(all);
    expect(other).to.deep.equal([]);
  });

  it('defines the completions once however often the init is sourced', () => {
    const script = [
      `builtin source '${init}'`,
      `builtin source '${init}'`,
      "complete -C 'blast st' | count",
    ].join('\n');
    expect(runFish(script, { dir: dir.path }).stdout.toString()).to.equal('2\n');
  });

  it('leaves completions out when there is no model (the subshell)', () => {
    const text = fish.init({
      bin: '/x/blast',
      scriptVariable: 'BLAST_SHELL_SCRIPT',
      shellVariable: 'BLAST_SHELL',
      pidVariable: 'BLAST_SHELL_PID',
    });
    expect(text).to.not.contain('complete');
  });
});

describe('fish completions from the real CLI', function () {
  this.timeout(180_000);
  let box: Sandbox;
  before(function () {
    box = sandbox();
    const made = throughFunction(box, ['start', 'demo'], { shell: 'fish' });
    expect(made.status, made.stderr).to.equal(0);
    const other = throughFunction(box, ['start', 'with space'], { shell: 'fish' });
    expect(other.status, other.stderr).to.equal(0);
  });
  after(() => box?.cleanup());

  /** What real fish offers for each line, after sourcing `blast init fish`: the candidate words. */
  function offers(lines: string[], env: Record<string, string> = {}): string[][] {
    const init = blast(box, ['init', 'fish']);
    expect(init.status, init.stderr).to.equal(0);
    const file = join(box.root, 'init.fish');
    writeFileSync(file, init.stdout);
    const script = [
      `builtin source ${fish.quote(file)}`,
      ...lines.map((l) => `complete -C ${fish.quote(l)}; printf '\\0'`),
    ].join('\n');
    const result = runFish(script, { dir: box.root, env: { ...box.env, ...env } });
    expect(result.stderr).to.equal('');
    return result.stdout
      .toString('utf8')
      .split('\0')
      .slice(0, lines.length)
      .map((o) =>
        o
          .split('\n')
          .filter(Boolean)
          .map((c) => c.split('\t')[0]!),
      );
  }

  it('blast init fish | source: commands, flags and the sandbox environments', () => {
    const [st, start, py, kill] = offers(['blast st', 'blast start ', 'blast start --py', 'blast kill --']);
    expect(st).to.include('start');
    expect(start).to.include.members(['demo', 'with space']);
    expect(py).to.deep.equal(['--python']);
    expect(kill).to.include('--force');
  });

  it('environment names where an environment is named: start and clean, and every --env ENV', () => {
    const envs = ['demo', 'with space'];
    const lines = [
      'blast start ',
      'blast clean ',
      'blast clean --dry-run ',
      // --env ENV: the environment a command acts on (a plugin's command too: impact).
      'blast load --env ',
      'blast save --env ',
      'blast history --env ',
      'blast config --env ',
      'blast impact --env ',
      // Not environments: load and save take a snapshot's name, start's --env is NAME=VALUE.
      'blast load ',
      'blast save ',
      'blast start --env ',
    ];
    const got = offers(lines);
    lines.forEach((line, i) => {
      if (i < 8) expect(got[i]!.sort(), line).to.deep.equal(envs);
      else expect(got[i], line).to.not.include.members(['demo']).and.not.include.members(['with space']);
    });
  });

  it("blast load offers the active environment's snapshots, and only load", () => {
    for (const name of ['before upgrade', 'nightly']) {
      const saved = blast(box, ['save', name, '--env', 'demo']);
      expect(saved.status, saved.stderr).to.equal(0);
    }
    // The active environment, as a shell Blast activated has it.
    const active = { VIRTUAL_ENV: join(box.blastHome, 'envs', 'demo') };
    const [load, save, noneActive] = [
      ...offers(['blast load ', 'blast save '], active),
      ...offers(['blast load ']),
    ];
    expect(load!.sort()).to.deep.equal(['before upgrade', 'nightly']);
    expect(save).to.deep.equal([]);
    expect(noneActive).to.deep.equal([]);
  });

  it('the rc line sources the init in a fish that reads config.fish', () => {
    const config = join(box.home, '.config', 'fish', 'config.fish');
    mkdirSync(join(config, '..'), { recursive: true });
    writeFileSync(config, `${fish.rcLine!(`${BIN}`)}\n`);
    const result = runFish("functions -q blast; and complete -C 'blast sta'", {
      dir: box.root,
      env: box.env,
      argv: ['fish'],
    });
    expect(result.stderr).to.equal('');
    expect(result.stdout.toString()).to.match(/^start\t/);
  });
});
