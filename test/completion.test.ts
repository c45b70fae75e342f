/**
 * Completion for bash, zsh and PowerShell, through @oclif/plugin-autocomplete (a core plugin):
 * `blast autocomplete <shell>` writes the scripts under the cache dir, `blast autocomplete script
 * <shell>` prints the line for the rc file. The scripts must know every visible command and flag
 * (read from the core's manifest), and work: bash's completion function called as readline calls
 * it, TAB in real interactive bash and zsh (compsys) in tmux — with the `blast` shell function
 * defined, as users have it — and PowerShell's script parsed by a real PowerShell grammar.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Node, Parser } from 'web-tree-sitter';
import { BIN, REPO, sandbox, type Sandbox } from './support/cli.js';
import { cleanEnv, splitNul } from './support/shells.js';
import { TmuxShell } from './support/tmux.js';

const require = createRequire(import.meta.url);

interface ManifestCommand {
  hidden?: boolean;
  flags: Record<string, { hidden?: boolean; char?: string }>;
}
/** The core's visible commands and their visible flags, as the build's manifest has them. */
function coreCommands(): Map<string, string[]> {
  const manifest = JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, ManifestCommand>;
  };
  const out = new Map<string, string[]>();
  for (const [id, command] of Object.entries(manifest.commands)) {
    if (command.hidden) continue;
    out.set(
      id,
      Object.entries(command.flags)
        .filter(([, f]) => !f.hidden)
        .map(([name]) => name),
    );
  }
  return out;
}

const autocompleteEnv = (home: string) => ({
  XDG_CACHE_HOME: join(home, '.cache'),
  XDG_DATA_HOME: join(home, '.local', 'share'),
  XDG_CONFIG_HOME: join(home, '.config'),
  BLAST_HOME: join(home, 'blast home'),
});

/** Generate the completion scripts in `home` the way a user does; returns the rc line for `shell`. */
function generate(home: string, shell: 'bash' | 'zsh' | 'powershell'): string {
  const env = cleanEnv({ HOME: home, ...autocompleteEnv(home) });
  const made = spawnSync(process.execPath, [BIN, 'autocomplete', shell], { env, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`blast autocomplete ${shell}: ${made.stderr}`);
  const script = spawnSync(process.execPath, [BIN, 'autocomplete', 'script', shell], {
    env,
    encoding: 'utf8',
  });
  if (script.status !== 0) throw new Error(`blast autocomplete script ${shell}: ${script.stderr}`);
  return script.stdout;
}

describe('completion (@oclif/plugin-autocomplete)', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let dir: string;
  before(() => {
    box = sandbox();
    generate(box.home, 'bash');
    dir = join(box.home, '.cache', 'blast', 'autocomplete');
  });
  after(() => box.cleanup());

  it('writes the bash, zsh and PowerShell scripts with every visible command and flag', () => {
    const bashScript = readFileSync(join(dir, 'functions', 'bash', 'blast.bash'), 'utf8');
    const zshScript = readFileSync(join(dir, 'functions', 'zsh', '_blast'), 'utf8');
    const ps1 = readFileSync(join(dir, 'functions', 'powershell', 'blast.ps1'), 'utf8');
    for (const [id, flags] of coreCommands()) {
      expect(bashScript, id).to.match(new RegExp(`^${id}( |$)`, 'm'));
      for (const flag of flags)
        expect(bashScript, `${id} --${flag}`).to.match(new RegExp(`^${id} .*--${flag}\\b`, 'm'));
      expect(zshScript, id).to.include(`"${id}[`);
      expect(ps1, id).to.include(`"${id}" = @{`);
      for (const flag of flags) {
        expect(zshScript, `${id} --${flag}`).to.include(`--${flag}`);
        expect(ps1, `${id} --${flag}`).to.include(`"${flag}" = @{`);
      }
    }
    expect(bashScript).to.include('complete -F _blast_autocomplete blast');
    expect(bashScript).not.to.include('--names'); // hidden flags stay hidden
  });

  it('blast autocomplete script prints the rc line for each shell', () => {
    expect(generate(box.home, 'bash')).to.include(`BLAST_AC_BASH_SETUP_PATH=${join(dir, 'bash_setup')}`);
    expect(generate(box.home, 'zsh')).to.include(`BLAST_AC_ZSH_SETUP_PATH=${join(dir, 'zsh_setup')}`);
    expect(generate(box.home, 'powershell').trim()).to.equal(
      `. ${join(dir, 'functions', 'powershell', 'blast.ps1')}`,
    );
  });

  it('bash: the completion function answers as readline asks it (COMP_WORDS, COMP_CWORD)', () => {
    const cases: Array<[string[], string[] | ((got: string[]) => void)]> = [
      [['blast', 'st'], ['start']],
      [['blast', 'start', '--py'], ['--python']],
      [['blast', 'init', '--ins'], ['--install']],
      [
        ['blast', 'init', '--'],
        (got) => expect(got).to.include.members(['--install', '--uninstall', '--shell', '--json']),
      ],
      [['blast', 'kill', '--f'], ['--force']],
      [['blast', 'plugins', 'li'], ['link']],
      [
        ['blast', ''],
        (got) =>
          expect(got).to.include.members([
            'check',
            'clean',
            'init',
            'kill',
            'list',
            'start',
            'plugins',
            'autocomplete',
          ]),
      ],
    ];
    const script = [
      `source '${join(dir, 'functions', 'bash', 'blast.bash')}'`,
      'ask() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _blast_autocomplete; printf "%s\\n" "${COMPREPLY[@]}"; printf "\\0"; }',
      ...cases.map(([words]) => `ask ${words.map((w) => `'${w}'`).join(' ')}`),
    ].join('\n');
    const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
      env: cleanEnv(),
      encoding: 'buffer',
    });
    expect(run.status, run.stderr.toString()).to.equal(0);
    const answers = splitNul(run.stdout).map((b) => b.toString('utf8').split('\n').filter(Boolean));
    cases.forEach(([words, want], i) => {
      const got = answers[i] ?? [];
      if (typeof want === 'function') want(got);
      else expect(got, words.join(' ')).to.deep.equal(want);
    });
  });

  it('PowerShell: our part of the script parses without error nodes, and no summary is expanded', async function () {
    const ts = await import('web-tree-sitter');
    await ts.Parser.init();
    const grammar = require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
    const parser: Parser = new ts.Parser();
    parser.setLanguage(await ts.Language.load(grammar));
    const ps1 = readFileSync(join(dir, 'functions', 'powershell', 'blast.ps1'), 'utf8');
    const errorsIn = (code: string) => {
      const found: Array<{ line: string; text: string }> = [];
      const lines = code.split('\n');
      const walk = (node: Node): void => {
        if (node.isError || node.isMissing)
          found.push({ line: lines[node.startPosition.row] ?? '', text: node.text.slice(0, 60) });
        for (const child of node.children) if (child) walk(child);
      };
      walk(parser!.parse(code)!.rootNode);
      return found;
    };

    // What Blast's commands become: the $Commands hashtable of summaries and flags.
    const data = ps1.slice(ps1.indexOf('    $Commands ='), ps1.indexOf('    # Get the current mode'));
    expect(data).to.include('"start" = @{');
    expect(errorsIn(data)).to.deep.equal([]);
    const expanding: string[] = [];
    let summaries = 0;
    const visit = (node: Node): void => {
      // A summary is data: inside "…" PowerShell expands $variables and runs $(…) at every start.
      if (node.type === 'hash_entry' && node.namedChildren[0]?.text === '"summary"') {
        summaries++;
        const value = node.namedChildren[1];
        if (value && value.descendantsOfType(['variable', 'sub_expression']).length > 0)
          expanding.push(node.text);
      }
      for (const child of node.children) if (child) visit(child);
    };
    visit(parser!.parse(data)!.rootNode);
    expect(expanding).to.deep.equal([]);
    expect(summaries).to.be.greaterThan(coreCommands().size);

    // oclif's fixed template around it is PowerShell 7 code (`using namespace`, `c ? a : b`, `a ?? b`),
    // which this grammar predates: with those spelled as PowerShell 5 operators of the same shape,
    // the whole script must parse.
    const ps5 = ps1
      .replace(/^using namespace /gm, '# using namespace ')
      .replaceAll(' ?? ', ' -or ')
      .replace(/ \? ("[^"]*") : /g, ' -and $1 -or ');
    expect(ps5).not.to.match(/ \?\?? /);
    expect(errorsIn(ps5)).to.deep.equal([]);
    expect(ps1).to.match(
      /Register-ArgumentCompleter -Native -CommandName blast -ScriptBlock \$scriptblock\s*$/,
    );
  });

  /*
   * After `blast init powershell`, `blast` is a PowerShell function, and the registration above is
   * for a native command. PowerShell's completer (CompletionCompleters.CompleteCommandArgument, the
   * same in Windows PowerShell 5.1 and pwsh 7) still calls it for a function: once the pseudo
   * parameter binding has nothing to offer for an argument, it looks the command's *name* up among
   * the native completers, whatever kind of command it is. Arguments are every word this script
   * completes — subcommands and `--long` flags, since `--x` is an argument token in command mode,
   * not a parameter. Two things would end that: a function of another name, and declared
   * parameters (the binder would then complete the words itself). Words PowerShell reads as its own
   * parameters (`-p`, a lone `-`) never reach a native completer of a function; oclif's script
   * offers only `--` flags anyway.
   */
  it('PowerShell: the native completer reaches the blast function (same name, no declared parameters)', async function () {
    const ts = await import('web-tree-sitter');
    await ts.Parser.init();
    const parser: Parser = new ts.Parser();
    parser.setLanguage(
      await ts.Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')),
    );
    const init = spawnSync(process.execPath, [BIN, 'init', 'powershell'], { env: box.env, encoding: 'utf8' });
    expect(init.status, init.stderr).to.equal(0);
    const functions: Array<{ name: string; params: boolean }> = [];
    const visit = (node: Node): void => {
      if (node.type === 'function_statement') {
        const [name, body] = node.namedChildren;
        functions.push({
          name: name?.text ?? '',
          params: body?.namedChildren.some((c) => c?.type === 'param_block') ?? false,
        });
      }
      for (const child of node.children) if (child) visit(child);
    };
    visit(parser.parse(init.stdout)!.rootNode);
    expect(functions).to.deep.equal([{ name: 'global:blast', params: false }]);
    const registered = /Register-ArgumentCompleter -Native -CommandName (\S+)/.exec(
      readFileSync(join(dir, 'functions', 'powershell', 'blast.ps1'), 'utf8'),
    );
    expect(registered?.[1]).to.equal('blast');
  });

  describe('TAB in real interactive shells, with the blast function defined', function () {
    this.timeout(120_000);
    let sh: TmuxShell | undefined;
    afterEach(async () => {
      await sh?.kill();
      sh = undefined;
    });

    /**
     * Type `typed`, press TAB, and read the line back through a key binding (no screen scraping).
     * The binding writes a temporary file and renames it: the file appears whole, never created
     * but still empty (a plain `>|` let a busy machine read '' between the open and the write).
     */
    async function complete(s: TmuxShell, typed: string): Promise<string> {
      const file = join(s.home, 'line');
      rmSync(file, { force: true });
      await s.keys('-l', typed);
      await s.keys('Tab');
      await new Promise((resolve) => setTimeout(resolve, 300)); // let completion finish before reading
      await s.keys('C-x', 'C-d');
      for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
      const line = existsSync(file)
        ? readFileSync(file, 'utf8')
        : `(nothing read; screen: ${await s.screen()})`;
      await s.keys('C-u'); // clear the line for the next case
      return line;
    }

    const shells: Array<{ shell: 'bash' | 'zsh'; rc: string; dump: string }> = [
      {
        shell: 'bash',
        rc: '.bashrc',
        dump: `bind -x '"\\C-x\\C-d": printf "%s" "$READLINE_LINE" >| "$HOME/line.tmp"; command mv -f "$HOME/line.tmp" "$HOME/line"'`,
      },
      {
        shell: 'zsh',
        rc: '.zshrc',
        dump: [
          '_dump_line() { print -rn -- "$BUFFER" >| "$HOME/line.tmp"; command mv -f "$HOME/line.tmp" "$HOME/line"; }',
          'zle -N _dump_line',
          "bindkey '^X^D' _dump_line",
        ].join('\n'),
      },
    ];
    for (const { shell, rc, dump } of shells) {
      it(`${shell}: blast st<TAB> → start, blast start --py<TAB> → --python`, async function () {
        sh = await TmuxShell.start({
          shell,
          files: { [rc]: `PS1='user> '\neval "$(node '${BIN}' init ${shell})"\n${dump}\n` },
          env: (home) => {
            appendFileSync(join(home, rc), generate(home, shell));
            return autocompleteEnv(home);
          },
        });
        expect(await sh.run('type blast >/dev/null')).to.equal(0); // the function, not a binary
        expect(await complete(sh, 'blast st')).to.equal('blast start ');
        expect(await complete(sh, 'blast start --py')).to.match(/^blast start --python[= ]$/);
        expect(await complete(sh, 'blast init --unin')).to.match(/^blast init --uninstall ?$/);
      });
    }
  });
});
