/**
 * Every command Blast and its plugins bring, as `blast COMMAND --help` shows it: at least one
 * example, and `--json` on every command that prints data. Walks what the CLI loads, so a new
 * command is held to this without anyone adding it here.
 */
import { expect } from 'chai';
import { blast, REPO, sandbox, type Sandbox } from './support/cli.js';

/**
 * Commands that print no data of their own, so have nothing to put in JSON. Each says why; one
 * that gains --json must leave this list (the test says so).
 */
const PRINTS_NO_DATA: Record<string, string> = {
  start: 'hands shell code to the shell function, or opens a subshell',
  kill: 'hands shell code to the shell function',
  auto: 'hands shell code to the shell function (the --auto prompt hook runs it)',
  run: 'the output is the command it runs',
  pip: "the output is pip's own",
};

interface Walked {
  id: string;
  plugin: string;
  json: boolean;
}

describe('every command', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let commands: Walked[];
  before(async () => {
    box = sandbox();
    const { Config } = await import('@oclif/core');
    const config = await Config.load(REPO);
    // Blast's own and its plugins' (not the oclif plugins' it ships, such as `plugins` and `autocomplete`).
    commands = config.commands
      .filter((c) => c.pluginName === 'blast' || c.pluginName?.startsWith('@blast/'))
      .map((c) => ({ id: c.id, plugin: c.pluginName ?? '', json: c.enableJsonFlag === true }));
  });
  after(() => box.cleanup());

  it('walks the core commands and the plugins’ ones', () => {
    const ids = commands.map((c) => c.id);
    for (const id of ['start', 'kill', 'list', 'check', 'clean', 'init', 'impact'])
      expect(ids).to.include(id);
    expect(commands.some((c) => c.plugin !== 'blast')).to.equal(true);
  });

  it('--help shows at least one example, and --json wherever the command prints data', () => {
    const problems: string[] = [];
    for (const { id, json } of commands) {
      const argv = [...id.split(':'), '--help'];
      const help = blast(box, argv);
      if (help.status !== 0) {
        problems.push(`${id}: --help exits ${help.status}: ${help.stderr}`);
        continue;
      }
      const examples = /^EXAMPLES\n([\s\S]*?)(?:\n[A-Z][A-Z ]+\n|$)/m.exec(help.stdout)?.[1] ?? '';
      if (!/^\s+\$ blast \S/m.test(examples)) problems.push(`${id}: --help shows no example`);
      const exempt = PRINTS_NO_DATA[id];
      if (exempt === undefined && !(json && /^\s+--json\b/m.test(help.stdout)))
        problems.push(`${id}: prints data but has no --json`);
      if (exempt !== undefined && json) problems.push(`${id}: has --json now; take it out of PRINTS_NO_DATA`);
    }
    expect(problems).to.deep.equal([]);
  });
});
