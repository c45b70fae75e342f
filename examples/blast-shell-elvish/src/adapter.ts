/**
 * Blast for elvish (https://elv.sh, written for 0.19), from nothing but Blast's public contract.
 *
 * Elvish, as far as Blast is concerned:
 * - Quoting: in a single-quoted string every character stands for itself, newlines included; a
 *   quote is written twice (`'it''s'`). That is the whole rule.
 * - The environment: `set-env NAME value`, `unset-env NAME`; `$E:NAME` reads it (empty when unset),
 *   `has-env NAME` tells unset from empty. PATH is a plain variable here: `$paths` follows it.
 *   Elvish caches no command paths, so there is nothing to forget after a change.
 * - The prompt is a function, `$edit:prompt`. It is kept aside (the function value itself, so
 *   `kill` puts back the very same function) and replaced by one that outputs the tag and then
 *   calls the old one. `edit:` exists only in an interactive shell, and code that names it does not
 *   even compile elsewhere, so the prompt code is compiled once, when the function is defined, and
 *   only where the line editor exists.
 * - `eval` runs code in a fresh namespace: what it defines is gone afterwards, but the variables of
 *   the namespace passed as `&ns` keep whatever values the code gives them. The function keeps its
 *   state (the saved prompt, the tag) in such a namespace and evaluates Blast's scripts in it;
 *   `edit:add-var` puts the function itself into the interactive namespace, which is how a line
 *   in rc.elv — `eval (blast init elvish | slurp)` — can define it.
 * - A failing external command throws; the function catches it to clean up and then rethrows it,
 *   so `blast start x; echo ok` behaves as with any failing command.
 */
import type {
  CompletionModel,
  InitContext,
  ShellAdapter,
  ShellChange,
  SubshellContext,
  SubshellSpec,
} from 'blast/contract';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quote one value so elvish reads it back byte for byte. */
export function quote(value: string): string {
  if (value.includes('\0')) throw new Error('an elvish string for the environment cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a valid variable name: ${JSON.stringify(name)}`);
  return name;
}

/**
 * The change, for evaluation in the function's state namespace (see init): `tag`, and the
 * functions `show-tag` and `restore-prompt`, which do nothing where there is no line editor.
 */
export function render(change: ShellChange): string {
  const lines: string[] = [];
  for (const name of change.unset) lines.push(`unset-env ${quote(checkName(name))}`);
  for (const [name, value] of change.set) lines.push(`set-env ${quote(checkName(name))} ${quote(value)}`);
  const { prompt } = change;
  if (prompt.action === 'tag') {
    lines.push(`if (eq $E:VIRTUAL_ENV_DISABLE_PROMPT '') { set tag = ${quote(prompt.tag)}; show-tag }`);
  } else if (prompt.action === 'restore') {
    lines.push('restore-prompt');
  }
  return lines.join('\n') + '\n';
}

/** The prompt functions, compiled only where `edit:` exists. */
const PROMPT_CODE = [
  'set show-tag~ = {',
  '  if (not $saved) { set old-prompt = $edit:prompt; set saved = $true }',
  '  set edit:prompt = { put $tag; $old-prompt }',
  '}',
  'set restore-prompt~ = {',
  '  if $saved { set edit:prompt = $old-prompt; set saved = $false; set old-prompt = $nil }',
  "  set tag = ''",
  '}',
].join('\n');

/** The `blast` function: what `blast init elvish` prints, to be evaluated from rc.elv. */
export function init(ctx: InitContext): string {
  const bin = quote(ctx.bin);
  return [
    '# Blast for elvish: defines the `blast` function (eval (blast init elvish | slurp) in rc.elv).',
    'use str',
    "var blast-state = (ns [&saved=$false &old-prompt=$nil &tag='' &show-tag~={ } &restore-prompt~={ }])",
    `var blast-interactive = ?(eval 'nop $edit:prompt')`,
    `if $blast-interactive { eval &ns=$blast-state ${quote(PROMPT_CODE)} }`,
    'fn blast {|@args|',
    '  var file = (e:mktemp (if (has-env TMPDIR) { put $E:TMPDIR } else { put /tmp })/blast.XXXXXXXXXX)',
    '  var err = $nil',
    '  try {',
    // tmp: the variables exist for the CLI only, and are put back (unset stays unset) on return.
    // $pid is this elvish's own: the process the activation belongs to.
    `    { tmp E:${ctx.shellVariable} = elvish; tmp E:${ctx.scriptVariable} = $file; tmp E:${ctx.pidVariable} = (to-string $pid); ${bin} $@args }`,
    '  } catch e { set err = $e }',
    '  try {',
    // A CLI killed by a signal may have left half a script: the shell keeps its previous state.
    '    var killed = $false',
    "    try { set killed = (==s $err[reason][type] 'external-cmd/signaled') } catch { }",
    '    var code = (slurp < $file)',
    "    if (and (not $killed) (!=s $code '')) { eval &ns=$blast-state $code }",
    '  } finally {',
    '    e:rm -f -- $file',
    '  }',
    '  if (not-eq $err $nil) { fail $err }',
    '}',
    ...(ctx.completion ? completer(ctx.completion, bin) : []),
    'if $blast-interactive { edit:add-var blast~ $blast~ }',
    '',
  ].join('\n');
}

/**
 * Completion from the core's model of the command line (API 1.1): commands, their flags, and
 * environment names for the commands that take one.
 */
function completer(model: CompletionModel, bin: string): string[] {
  const words = (id: string) => id.split(' ');
  const top = [...new Set(model.commands.map((c) => words(c.id)[0]!))];
  const subs = new Map<string, string[]>();
  for (const c of model.commands) {
    const [topic, sub] = words(c.id);
    if (sub !== undefined) subs.set(topic!, [...(subs.get(topic!) ?? []), sub]);
  }
  const list = (items: string[]) => `[${items.map(quote).join(' ')}]`;
  const map = (entries: Array<[string, string]>) =>
    entries.length ? `[${entries.map(([k, v]) => `&${quote(k)}=${v}`).join(' ')}]` : '[&]';
  const flags = model.commands.map((c): [string, string] => [
    c.id,
    list(c.flags.flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])])),
  ]);
  return [
    'if $blast-interactive {',
    `  var blast-top = ${list(top)}`,
    `  var blast-subs = ${map([...subs].map(([k, v]) => [k, list(v)]))}`,
    `  var blast-flags = ${map(flags)}`,
    `  var blast-env-commands = ${list(model.envArgumentCommands)}`,
    '  var blast-complete~ = {|@words|',
    '    var n = (count $words)',
    '    if (== $n 2) { all $blast-top; return }',
    '    var cmd = $words[1]',
    "    if (and (> $n 3) (has-key $blast-flags $words[1]' '$words[2])) { set cmd = $words[1]' '$words[2] }",
    "    if (str:has-prefix $words[-1] '-') {",
    '      if (has-key $blast-flags $cmd) { all $blast-flags[$cmd] }',
    '    } elif (and (== $n 3) (has-key $blast-subs $cmd)) {',
    '      all $blast-subs[$cmd]',
    '    } elif (and (== $n 3) (has-value $blast-env-commands $cmd)) {',
    `      try { ${bin} ${model.listEnvironments.map(quote).join(' ')} 2>/dev/null | from-lines } catch { }`,
    '    }',
    '  }',
    // Through eval: code that names `edit:` compiles only where the line editor exists.
    "  eval 'set edit:completion:arg-completer[blast] = $blast-complete~'",
    '}',
  ];
}

/** The rc.elv elvish reads at interactive start, under XDG_CONFIG_HOME when that is set. */
function userRc(ctx: SubshellContext): string {
  const xdg = ctx.env.XDG_CONFIG_HOME;
  const config = xdg && xdg.startsWith('/') ? xdg : join(ctx.home, '.config');
  const current = join(config, 'elvish', 'rc.elv');
  const legacy = join(ctx.home, '.elvish', 'rc.elv');
  return existsSync(current) || !existsSync(legacy) ? current : legacy;
}

/**
 * The activated subshell: `elvish -rc FILE`, where FILE is the user's rc.elv (its text, so what it
 * defines lands in the interactive namespace as usual), then the function, then the activation.
 */
export function subshell(ctx: SubshellContext): SubshellSpec {
  const rc = join(ctx.dir, 'rc.elv');
  const user = userRc(ctx);
  const own = existsSync(user) ? readFileSync(user, 'utf8') : '';
  const content = [
    own,
    '# Blast subshell: the user rc.elv above, then the blast function and the activation.',
    init(ctx),
    // A call of the function defined just above, at the top level of the rc file.
    ctx.activation,
    '',
  ].join('\n');
  return {
    command: 'elvish',
    args: ['-rc', rc],
    env: { [ctx.scriptVariable]: null, [ctx.shellVariable]: null },
    files: { [rc]: content },
  };
}

export const elvish: ShellAdapter = {
  name: 'elvish',
  aliases: ['elv'],
  rcFile: '.config/elvish/rc.elv',
  rcLine: (bin) => `eval ((external ${quote(bin)}) init elvish | slurp)`,
  init,
  render,
  quote,
  subshell,
};
