/**
 * The `blast` shell function (what `eval "$(blast init bash)"` defines).
 *
 * It runs the CLI with the terminal untouched and two variables set for that command only, then
 * sources what the CLI wrote. Written to survive the settings users really have: `set -u`,
 * `set -e` (a failing CLI is caught with `||`, never aborting half-way), aliases (`command`,
 * `builtin`, and `function NAME` which no alias can hijack), bash 3.2's `"$@"` under `set -u`.
 * Its own variables are local and named `__blast_*` so the sourced change cannot collide with them.
 *
 * The file is removed on every path, including Ctrl-C: an interactive shell abandons the running
 * function when its foreground child dies of SIGINT, unless a SIGINT trap exists (bash: the
 * function goes on, status 130) or the cleanup is an `always` block (zsh: the command line is
 * abandoned as for any ^C, status 130). A CLI killed by a signal (status > 128) may have left a
 * half-written file, so it is not sourced: the shell keeps its previous, consistent state.
 */
import type { InitContext } from 'blast/hooks';
import type { Dialect } from './dialect.js';
import { quote } from './quote.js';

const MKTEMP = 'command mktemp "${TMPDIR:-/tmp}/blast.XXXXXXXXXX"';

export function init(dialect: Dialect, ctx: InitContext): string {
  const run = `${ctx.shellVariable}=${dialect} ${ctx.scriptVariable}="$__blast_script" ${quote(ctx.bin)}`;
  return (dialect === 'bash' ? bash(run) : zsh(run)).join('\n') + '\n';
}

function bash(run: string): string[] {
  return [
    'function blast {',
    '  local __blast_script __blast_status=0 __blast_trap',
    `  __blast_script=$(${MKTEMP}) || return`,
    // Only when the user has no INT trap of their own; theirs (even `trap '' INT`) stays in force.
    '  __blast_trap=$(trap -p INT)',
    '  if [ -z "$__blast_trap" ]; then trap \':\' INT; fi',
    `  ${run} \${1+"$@"} || __blast_status=$?`,
    '  if [ -z "$__blast_trap" ]; then trap - INT; fi',
    '  if [ "$__blast_status" -le 128 ] && [ -s "$__blast_script" ]; then',
    '    builtin . "$__blast_script" || :',
    '  fi',
    '  command rm -f -- "$__blast_script"',
    '  return "$__blast_status"',
    '}',
  ];
}

function zsh(run: string): string[] {
  return [
    'function blast {',
    // Options come back on return. Without errexit/errreturn here a failing CLI is handled below,
    // and no `||` is needed — after ^C, zsh would give an interrupted `a || b` status 1, not 130.
    '  setopt local_options no_err_exit no_err_return',
    '  local __blast_script __blast_status',
    `  __blast_script=$(${MKTEMP}) || return`,
    '  {',
    `    ${run} "$@"`,
    '    __blast_status=$?',
    '    if (( __blast_status <= 128 )) && [[ -s $__blast_script ]]; then',
    '      builtin . "$__blast_script"',
    '    fi',
    '  } always {',
    '    command rm -f -- "$__blast_script"',
    '  }',
    '  return $__blast_status',
    '}',
  ];
}
