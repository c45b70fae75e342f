/**
 * The prompt hook of `blast init fish --auto` (the core's AutoHookSpec rendered): a handler of the
 * `fish_prompt` event, which fish emits before each prompt (not `--on-variable PWD`, which also
 * fires for every `cd` inside scripts and functions). Event handlers leave `$status` alone.
 *
 * When $PWD is what it was at the last prompt it returns at once. Otherwise it walks up with
 * `test -f` and `string replace` (builtins: fish runs them in-process, also in a command
 * substitution), and calls `blast` only when the project changed. State, global and never
 * exported: _BLAST_AUTO_PWD, _BLAST_AUTO_PROJECT ('' for none).
 */
import type { AutoHookSpec } from 'blast/contract';
import { quote } from './quote.js';

export function autoHook(spec: AutoHookSpec): string {
  const found = spec.markers.map((m) => `test -f "$_BLAST_FN_DIR"/${quote(m)}`).join('; or ');
  return (
    [
      "function __blast_auto_hook --on-event fish_prompt --description 'Blast: activate the project under $PWD'",
      '    test "$PWD" = "$_BLAST_AUTO_PWD"; and return',
      '    set -g _BLAST_AUTO_PWD $PWD',
      '    set -l _BLAST_FN_DIR $PWD',
      "    set -l _BLAST_FN_FOUND ''",
      "    set -l _BLAST_FN_HOME (string replace -r -- '/$' '' \"$HOME\")",
      '    while test -n "$_BLAST_FN_DIR" -a "$_BLAST_FN_DIR" != / -a "$_BLAST_FN_DIR" != "$_BLAST_FN_HOME"',
      `        if ${found}`,
      '            set _BLAST_FN_FOUND $_BLAST_FN_DIR',
      '            break',
      '        end',
      "        set _BLAST_FN_DIR (string replace -r -- '/[^/]*$' '' $_BLAST_FN_DIR)",
      '    end',
      '    set -l _BLAST_FN_LAST "$_BLAST_AUTO_PROJECT"',
      '    set -g _BLAST_AUTO_PROJECT $_BLAST_FN_FOUND',
      '    if test "$_BLAST_FN_FOUND" != "$_BLAST_FN_LAST"',
      `        blast ${spec.command.map(quote).join(' ')} "$_BLAST_FN_FOUND"`,
      '    end',
      'end',
    ].join('\n') + '\n'
  );
}
