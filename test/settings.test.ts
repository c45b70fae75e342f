/**
 * Plugin settings (API 1.2) through the real CLI and a linked plugin: `blast start --<setting>`,
 * `blast config`, storage in blast.json, help, list, and the wrap event for the subshell.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blast, FIXTURES, linkPlugin, sandbox, throughFunction, type Sandbox } from './support/cli.js';

const SETTINGS = [
  { name: 'color', description: 'a colour', type: 'string', options: ['red', 'blue'] },
  { name: 'tag', description: 'tags', type: 'string', multiple: true, upper: true, refuse: 'bad' },
  { name: 'loud', description: 'be loud', type: 'boolean' },
  // Left out with a warning: a core flag's name, and a name that is not kebab-case.
  { name: 'python', description: 'clash', type: 'string' },
  { name: 'Bad_Name', description: 'odd', type: 'string' },
];

describe('plugin settings (real CLI, linked plugin)', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let log: string;
  const behave = (spec: object = {}) => ({
    BLAST_FIXTURE: JSON.stringify({ settings: { settings: SETTINGS }, ...spec }),
    BLAST_FIXTURE_LOG: log,
  });
  const events = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map(
            (l) =>
              JSON.parse(l) as { event: string; settings: unknown; purpose?: string; readable?: string[] },
          )
      : [];
  const stored = (name = 'demo') =>
    (
      JSON.parse(readFileSync(join(box.blastHome, 'envs', name, 'blast.json'), 'utf8')) as {
        settings?: unknown;
      }
    ).settings;

  before(() => {
    box = sandbox();
    log = join(box.root, 'events.log');
    linkPlugin(box, join(FIXTURES, 'blast-fixture'));
  });
  after(() => box.cleanup());

  it('start takes them as flags, checks them with the plugin, stores them and passes them to every event', () => {
    const run = throughFunction(
      box,
      ['start', 'demo', '--color', 'red', '--tag', 'a', '--tag', 'b', '--loud'],
      {
        env: behave(),
      },
    );
    expect(run.status, run.stderr).to.equal(0);
    expect(stored()).to.deep.equal({ color: 'red', tag: ['A', 'B'], loud: true });
    const starts = events().filter((e) => ['preStart', 'activate', 'postStart'].includes(e.event));
    expect(starts).to.have.length(3);
    for (const e of starts) expect(e.settings).to.deep.equal({ color: 'red', tag: ['A', 'B'], loud: true });
    expect(run.stderr).to.match(/setting "python" ignored: a core flag has that name/);
    expect(run.stderr).to.match(/setting "Bad_Name" ignored: its name is not kebab-case/);
  });

  it('starting again changes only what is given, and a plain start reads them back', () => {
    let run = throughFunction(box, ['start', 'demo', '--color', 'blue'], { env: behave() });
    expect(run.status, run.stderr).to.equal(0);
    expect(stored()).to.deep.equal({ color: 'blue', tag: ['A', 'B'], loud: true });
    run = throughFunction(box, ['start', 'demo'], { env: behave() });
    expect(run.status, run.stderr).to.equal(0);
    expect(events().at(-1)!.settings).to.deep.equal({ color: 'blue', tag: ['A', 'B'], loud: true });
  });

  it('refuses what the plugin refuses or the options do not allow, creating nothing', () => {
    const refused = throughFunction(box, ['start', 'other', '--tag', 'bad'], { env: behave() });
    expect(refused.status).to.equal(2);
    expect(refused.stderr).to.include('--tag "bad": bad is refused by the fixture');
    const outside = throughFunction(box, ['start', 'other', '--color', 'green'], { env: behave() });
    expect(outside.status).to.equal(2);
    expect(outside.stderr).to.match(/--color=green to be one of: red, blue/);
    expect(existsSync(join(box.blastHome, 'envs', 'other'))).to.equal(false);
    // A flag no plugin declares is still an error.
    const unknown = throughFunction(box, ['start', 'other', '--colour', 'red'], { env: behave() });
    expect(unknown.status).to.equal(2);
    expect(existsSync(join(box.blastHome, 'envs', 'other'))).to.equal(false);
  });

  it('blast config shows, sets and unsets them; bad input changes nothing', () => {
    const shown = blast(box, ['config', '--env', 'demo'], { env: behave() });
    expect(shown.status, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/^color\s+blue\s+blast-fixture\s+a colour$/m);
    expect(shown.stdout).to.match(/^tag\s+A, B\s+blast-fixture/m);

    const set = blast(box, ['config', '--env', 'demo', 'tag=x', 'tag=y', '--unset', 'loud', '--json'], {
      env: behave(),
    });
    expect(set.status, set.stderr).to.equal(0);
    const json = JSON.parse(set.stdout) as {
      settings: unknown;
      changed: boolean;
      available: { name: string; plugin: string }[];
    };
    expect(json.settings).to.deep.equal({ color: 'blue', tag: ['X', 'Y'] });
    expect(json.changed).to.equal(true);
    expect(json.available.filter((a) => a.plugin === 'blast-fixture').map((a) => a.name)).to.deep.equal([
      'color',
      'loud',
      'tag',
    ]);
    expect(stored()).to.deep.equal({ color: 'blue', tag: ['X', 'Y'] });

    const before = readFileSync(join(box.blastHome, 'envs', 'demo', 'blast.json'), 'utf8');
    for (const [args, pattern] of [
      [['color=red', 'nope=1'], /No setting named "nope"/],
      [['loud=maybe'], /loud is true or false/],
      [['tag=bad'], /bad is refused/],
      [['color'], /Expected NAME=VALUE/],
      [['--unset', 'nope'], /No setting named "nope"/],
    ] as const) {
      const run = blast(box, ['config', '--env', 'demo', ...args], { env: behave() });
      expect(run.status, run.stdout).to.equal(2);
      expect(run.stderr).to.match(pattern);
      expect(readFileSync(join(box.blastHome, 'envs', 'demo', 'blast.json'), 'utf8')).to.equal(before);
    }
  });

  it('start --help lists the installed plugins’ settings', () => {
    const run = blast(box, ['start', '--help'], { env: behave() });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/PLUGIN SETTINGS FLAGS/);
    expect(run.stdout).to.match(/--color=<option>\s+a colour \(blast-fixture; stored with the environment\)/);
    expect(run.stdout).to.match(/--loud\s+be loud/);
  });

  it('list shows them, and --json has them', () => {
    const run = blast(box, ['list', '--no-size'], { env: behave() });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/color=blue tag=X tag=Y/);
    const json = JSON.parse(blast(box, ['list', '--json', '--no-size'], { env: behave() }).stdout) as Array<{
      settings: unknown;
    }>;
    expect(json[0]!.settings).to.deep.equal({ color: 'blue', tag: ['X', 'Y'] });
  });

  it('the subshell runs under the wrapper a plugin returns, with its rc directory readable', () => {
    const marker = join(box.root, 'wrapped.txt');
    // The "wrapper" records the command line it was given instead of running the shell.
    const run = blast(box, ['start', 'demo', '--shell', 'bash'], {
      env: behave({
        wrap: {
          wrapWith: ['sh', '-c', 'printf "%s\\n" "$FIXTURE_WRAPPED" "$@" > "$0"', marker],
          env: { FIXTURE_WRAPPED: 'yes' },
        },
      }),
    });
    expect(run.status, run.stderr).to.equal(0);
    const lines = readFileSync(marker, 'utf8').trim().split('\n');
    expect(lines[0]).to.equal('yes');
    expect(lines[1]).to.match(/(^|\/)bash$/);
    const wrap = events()
      .filter((e) => e.event === 'wrap')
      .at(-1)!;
    expect(wrap.purpose).to.equal('subshell');
    expect(wrap.readable).to.have.length(1);
    expect(lines.slice(2).join(' ')).to.include(wrap.readable![0]!);
  });

  it('an activation that asks for a subshell opens one instead of changing this shell, then ends its part', () => {
    const marker = join(box.root, 'asked.txt');
    const before = events().length;
    const run = throughFunction(box, ['start', 'demo'], {
      env: behave({
        activate: { return: { subshell: 'the fixture needs its own shell', set: { FIXTURE_VAR: '1' } } },
        wrap: { wrapWith: ['sh', '-c', 'echo ran > "$0"', marker] },
      }),
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.script).to.equal('');
    expect(run.stderr).to.include('blast: the fixture needs its own shell');
    expect(readFileSync(marker, 'utf8')).to.equal('ran\n');
    expect(
      events()
        .slice(before)
        .map((e) => e.event),
    ).to.deep.equal(['preStart', 'activate', 'wrap', 'preKill', 'postKill']);
  });

  it('two plugins wrapping one process is an error naming both', () => {
    linkPlugin(box, join(FIXTURES, 'blast-fixture-twin'));
    const run = blast(box, ['start', 'demo', '--shell', 'bash'], {
      env: behave({ wrap: { wrapWith: ['true'] } }),
    });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include(
      'Plugins blast-fixture and blast-fixture-twin both want to wrap the subshell',
    );
  });
});
