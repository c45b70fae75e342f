/**
 * The `blast` function for fish (what `blast init fish | source` defines), plus completions.
 *
 * It runs the CLI with the terminal untouched and three variables set for that command only (fish
 * 3.1's `NAME=value command` form: the CLI stays the shell's own child), keeps its status, sources
 * what the CLI wrote — not when the CLI died of a signal (status > 128), which may have left a
 * half-written file — removes the file and returns the status. `command` and `builtin` keep user
 * functions named `mktemp`, `rm` or `source` out of the way; `set`, `test`, `return` and the like
 * are reserved words in fish and cannot be redefined. Its locals are named `_BLAST_FN_*`, a prefix
 * the core never lets a change set (a change assigning one would be shadowed by the local).
 *
 * ^C: when the CLI dies of SIGINT, interactive fish cancels the rest of the running function (the
 * rest of the command line goes on, with status 130), so the `rm` below never runs. The file is
 * therefore also listed in the global `_BLAST_FN_PENDING` while the CLI runs, and a `fish_postexec`
 * handler — run by fish after every interactive command line, cancelled or not — removes what is
 * listed there. Nothing of a cancelled call is sourced.
 */
import type { InitContext } from 'blast/contract';
import { completions } from './completion.js';
import { quote } from './quote.js';

export function init(ctx: InitContext): string {
  const lines = [
    "function __blast_fn_cleanup --on-event fish_postexec --description 'Blast: remove the script file of a blast call that ^C interrupted'",
    '    if set -q _BLAST_FN_PENDING',
    '        command rm -f -- $_BLAST_FN_PENDING',
    '        set -e -g _BLAST_FN_PENDING',
    '    end',
    'end',
    '',
    "function blast --description 'Blast: start, switch and kill Python environments in this shell'",
    '    set -l _BLAST_FN_TMP "$TMPDIR"',
    '    test -n "$_BLAST_FN_TMP"; or set _BLAST_FN_TMP /tmp',
    '    set -l _BLAST_FN_FILE (command mktemp "$_BLAST_FN_TMP/blast.XXXXXXXXXX"); or return',
    '    set -g -a _BLAST_FN_PENDING $_BLAST_FN_FILE',
    `    ${ctx.stamp ? `${ctx.stamp.variable}=${quote(ctx.stamp.value)} ` : ''}${ctx.shellVariable}=fish ${ctx.scriptVariable}=$_BLAST_FN_FILE ${ctx.pidVariable}=$fish_pid command ${quote(ctx.bin)} $argv`,
    '    set -l _BLAST_FN_STATUS $status',
    '    if test $_BLAST_FN_STATUS -le 128; and test -s "$_BLAST_FN_FILE"',
    '        builtin source "$_BLAST_FN_FILE"',
    '    end',
    '    command rm -f -- "$_BLAST_FN_FILE"',
    '    if set -l _BLAST_FN_AT (builtin contains -i -- $_BLAST_FN_FILE $_BLAST_FN_PENDING)',
    '        set -e -g _BLAST_FN_PENDING[$_BLAST_FN_AT]',
    '    end',
    '    set -q _BLAST_FN_PENDING[1]; or set -e -g _BLAST_FN_PENDING',
    '    return $_BLAST_FN_STATUS',
    'end',
  ];
  if (ctx.completion && ctx.initDir) {
    // Completions autoload from the companion file on the first <Tab> after `blast`: sourcing ~100
    // `complete` lines at every start would cost fish ~10 ms.
    const dir = `${ctx.initDir}/${COMPLETIONS_DIR}`;
    lines.push(
      `builtin contains -- ${quote(dir)} $fish_complete_path; or set -g fish_complete_path ${quote(dir)} $fish_complete_path`,
    );
  } else if (ctx.completion) lines.push('', ...completions(ctx.bin, ctx.completion));
  return lines.join('\n') + '\n';
}

const COMPLETIONS_DIR = 'fish-completions';

/** The generated file's companion: the completions, where fish autoloads them from. */
export function companions(ctx: InitContext): Record<string, string> {
  return ctx.completion
    ? { [`${COMPLETIONS_DIR}/blast.fish`]: completions(ctx.bin, ctx.completion).join('\n') + '\n' }
    : {};
}

/**
 * The config.fish line of `blast init --install`: source the generated file if it is there (`test`
 * and `source` are builtins: no process starts).
 */
export function sourceLine(file: string): string {
  return `test -f ${quote(file)}; and builtin source ${quote(file)}`;
}
