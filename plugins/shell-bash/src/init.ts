/**
 * The `blast` shell function (what `eval "$(blast init bash)"` defines).
 *
 * It runs the CLI with the terminal untouched and three variables set for that command only, then
 * sources what the CLI wrote. Written to survive the settings users really have: `set -u`,
 * `set -e` (a failing CLI never aborts the function half way: bash catches it with `||`, zsh turns
 * errexit off locally), aliases (`command`, `builtin`, and `function NAME`, which no alias can
 * hijack), bash 3.2's `"$@"` under `set -u`.
 * Its own variables are local and named `_BLAST_FN_*`, a prefix the core never lets a change set
 * (a change assigning one would only assign the local, and be lost on return).
 *
 * The file is removed on every path, including Ctrl-C: an interactive shell abandons the running
 * function when its foreground child dies of SIGINT, unless a SIGINT trap exists (bash: the
 * function goes on, status 130) or the cleanup is an `always` block (zsh: the command line is
 * abandoned as for any ^C, status 130). A CLI killed by a signal (status > 128) may have left a
 * half-written file, so it is not sourced: the shell keeps its previous, consistent state.
 */
import type { InitContext } from 'blast/contract';
import type { Dialect } from './dialect.js';
import { quote } from './quote.js';

const MKTEMP = 'command mktemp "${TMPDIR:-/tmp}/blast.XXXXXXXXXX"';

export function init(dialect: Dialect, ctx: InitContext): string {
  // The shell's own pid, never the CLI's parent (see the core's shell-pid.ts). bash 4's BASHPID is
  // this very process also in a subshell, where `$$` names the parent shell; zsh's `$$` is this one's.
  const pid = dialect === 'bash' ? '"${BASHPID:-$$}"' : '"$$"';
  // The generated init file's stamp goes with every call (the CLI rewrites a stale file).
  const stamp = ctx.stamp ? `${ctx.stamp.variable}=${quote(ctx.stamp.value)} ` : '';
  const run = `${stamp}${ctx.shellVariable}=${dialect} ${ctx.scriptVariable}="$_BLAST_FN_FILE" ${ctx.pidVariable}=${pid} ${quote(ctx.bin)}`;
  const lines = dialect === 'bash' ? bash(run) : zsh(run);
  if (ctx.completionScript) lines.push(...completions(dialect, ctx.completionScript));
  return lines.join('\n') + '\n';
}

/**
 * @oclif/plugin-autocomplete's completion code, loaded from its cache when it is there: bash
 * sources its function file; zsh gets the directory of `_blast` on fpath, for a compinit that runs
 * later, and the completion right away when compinit ran already (never compinit itself: it costs
 * tens of milliseconds and is the user's to call).
 */
function completions(dialect: Dialect, file: string): string[] {
  if (dialect === 'bash') return [`if [ -f ${quote(file)} ]; then builtin . ${quote(file)}; fi`];
  const dir = file.slice(0, file.lastIndexOf('/'));
  const fn = file.slice(file.lastIndexOf('/') + 1);
  return [
    `if [[ -f ${quote(file)} ]]; then`,
    // An anonymous function: a subscript takes no quoted word, a parameter it does.
    `  () { if (( ! \${fpath[(Ie)$1]} )); then fpath=("$1" \${fpath[@]}); fi } ${quote(dir)}`,
    `  if (( \${+functions[compdef]} )); then autoload -Uz ${quote(fn)}; compdef ${quote(fn)} blast; fi`,
    'fi',
  ];
}

/**
 * The rc line of `blast init --install`: load the generated file if it is there. No process starts
 * (`[` and `.` are builtins), and a missing file costs one failed test, not an error at start-up.
 */
export function sourceLine(dialect: Dialect, file: string): string {
  return dialect === 'bash'
    ? `if [ -f ${quote(file)} ]; then . ${quote(file)}; fi`
    : `if [[ -f ${quote(file)} ]]; then builtin . ${quote(file)}; fi`;
}

function bash(run: string): string[] {
  return [
    'function blast {',
    '  local _BLAST_FN_FILE _BLAST_FN_STATUS=0 _BLAST_FN_TRAP',
    `  _BLAST_FN_FILE=$(${MKTEMP}) || return`,
    // Only when the user has no INT trap of their own; theirs (even `trap '' INT`) stays in force.
    '  _BLAST_FN_TRAP=$(trap -p INT)',
    '  if [ -z "$_BLAST_FN_TRAP" ]; then trap \':\' INT; fi',
    `  ${run} \${1+"$@"} || _BLAST_FN_STATUS=$?`,
    '  if [ -z "$_BLAST_FN_TRAP" ]; then trap - INT; fi',
    '  if [ "$_BLAST_FN_STATUS" -le 128 ] && [ -s "$_BLAST_FN_FILE" ]; then',
    '    builtin . "$_BLAST_FN_FILE" || :',
    '  fi',
    '  command rm -f -- "$_BLAST_FN_FILE"',
    '  return "$_BLAST_FN_STATUS"',
    '}',
  ];
}

function zsh(run: string): string[] {
  return [
    'function blast {',
    // Options come back on return. Without errexit/errreturn here a failing CLI is handled below,
    // and no `||` is needed — after ^C, zsh would give an interrupted `a || b` status 1, not 130.
    '  setopt local_options no_err_exit no_err_return',
    '  local _BLAST_FN_FILE _BLAST_FN_STATUS',
    `  _BLAST_FN_FILE=$(${MKTEMP}) || return`,
    '  {',
    `    ${run} "$@"`,
    '    _BLAST_FN_STATUS=$?',
    '    if (( _BLAST_FN_STATUS <= 128 )) && [[ -s $_BLAST_FN_FILE ]]; then',
    '      builtin . "$_BLAST_FN_FILE"',
    '    fi',
    '  } always {',
    '    command rm -f -- "$_BLAST_FN_FILE"',
    '  }',
    '  return $_BLAST_FN_STATUS',
    '}',
  ];
}
