/**
 * The prompt part of a rendered change. fish has no PS1: the prompt is whatever the function
 * `fish_prompt` prints. So the tag is a new `fish_prompt` that prints the tag and then what the
 * user's prompt prints, with the user's prompt kept aside as `_blast_old_fish_prompt`.
 *
 * State kept in the shell (global, never exported, so child shells do not see it):
 *   _BLAST_PROMPT_SAVED  how the prompt was set aside, once:
 *                          `autoloaded FILE` — fish had loaded it from FILE in $fish_function_path
 *                          `copied`          — defined some other way (config.fish, interactively)
 *                          `none`            — there was no fish_prompt at all
 *   _BLAST_PROMPT        the tag, printed with printf '%s' (the terminal sees it as it is)
 * `set -g` and `set -e -g` throughout: the script is sourced inside the `blast` function, where a
 * plain `set` would make a function-local variable and `set -e` would look there first.
 *
 * The user's prompt runs first, as the first command of the new prompt, so it sees `$status` and
 * `$pipestatus` of the user's last command exactly as fish gave them (printing the tag first would
 * reset both); its output is kept whole (`string collect -N`: multi-line prompts and trailing
 * newlines intact) and printed after the tag.
 *
 * Restoring: an autoloaded prompt comes back the way fish loaded it — by sourcing its file again —
 * because a copy made with `functions -c` forgets where it came from (`functions fish_prompt` would
 * say "Defined interactively" instead of naming the file). Sourced over the wrapper, it reads
 * exactly as before; only `functions -D -v` can tell it is no longer marked autoloaded. If that file is gone or fails, and for every other prompt,
 * the saved copy is copied back: the user's code, with that provenance comment lost (fish 3.6
 * keeps no origin for copies).
 *
 * fish's reserved words (`set`, `test`, `string`, `status`…) cannot be redefined by the user; the
 * other builtins used here are called through `builtin` so that a user function of the same name
 * cannot take over.
 */
import { quote } from './quote.js';

const OLD = '_blast_old_fish_prompt';

export function renderTag(tag: string): string {
  return [
    'if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"',
    '    if not set -q _BLAST_PROMPT_SAVED',
    // A leftover copy (state erased by hand) must not make the copy below fail.
    `        builtin functions -e ${OLD}`,
    // -q loads an autoloaded prompt if it is not loaded yet.
    '        if builtin functions -q fish_prompt',
    `            builtin functions -c fish_prompt ${OLD}`,
    '            set -l _BLAST_DETAILS (builtin functions -D -v fish_prompt)',
    // Also a prompt restored by sourcing its file (no longer marked autoloaded): a second start
    // must give back the same file's prompt, not a copy "Defined interactively".
    '            if test "$_BLAST_DETAILS[2]" = autoloaded; or string match -q -- \'*/fish_prompt.fish\' "$_BLAST_DETAILS[1]"',
    '                set -g _BLAST_PROMPT_SAVED autoloaded $_BLAST_DETAILS[1]',
    '            else',
    '                set -g _BLAST_PROMPT_SAVED copied',
    '            end',
    '        else',
    '            set -g _BLAST_PROMPT_SAVED none',
    '        end',
    '    end',
    `    set -g _BLAST_PROMPT ${quote(tag)}`,
    '    if test "$_BLAST_PROMPT_SAVED[1]" = none',
    "        function fish_prompt --description 'Blast: the environment tag'",
    "            builtin printf '%s' $_BLAST_PROMPT",
    '        end',
    '    else',
    // Nothing may run before the user's prompt: any command would reset $status and $pipestatus.
    "        function fish_prompt --description 'Blast: the environment tag, then your own prompt'",
    `            set -l _BLAST_OLD (${OLD} | string collect -N)`,
    `            builtin printf '%s' $_BLAST_PROMPT "$_BLAST_OLD"`,
    '        end',
    '    end',
    'end',
  ].join('\n');
}

export function renderRestore(): string {
  return [
    'if set -q _BLAST_PROMPT_SAVED',
    '    if test "$_BLAST_PROMPT_SAVED[1]" = autoloaded',
    '        and test -f "$_BLAST_PROMPT_SAVED[2]"',
    '        and builtin source "$_BLAST_PROMPT_SAVED[2]"',
    '        and test (builtin functions -D fish_prompt | string collect) = "$_BLAST_PROMPT_SAVED[2]"',
    '        # Read from its file again, over the wrapper, as fish had loaded it.',
    '    else',
    '        builtin functions -e fish_prompt',
    `        if test "$_BLAST_PROMPT_SAVED[1]" != none; and builtin functions -q ${OLD}`,
    `            builtin functions -c ${OLD} fish_prompt`,
    '        end',
    '    end',
    `    builtin functions -e ${OLD}`,
    '    set -e -g _BLAST_PROMPT_SAVED',
    '    set -e -g _BLAST_PROMPT',
    'end',
  ].join('\n');
}
