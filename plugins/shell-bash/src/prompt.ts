/**
 * The prompt part of a rendered change.
 *
 * State kept in the shell (never exported, so child shells do not see it):
 *   _BLAST_PS1_SAVED  non-empty once the prompt has been set aside
 *   _BLAST_OLD_PS1    the prompt as it was; unset when PS1 itself was unset
 *   _BLAST_PROMPT     the tag, escaped for the prompt language in force
 * Only plain assignments, `typeset -g` (zsh) and `unset` are used: the script is sourced inside the
 * `blast` function, and `local`/`typeset` without -g would make the values vanish on return.
 *
 * The tag must show literally. Prompt strings are a language of their own:
 *   bash decodes backslash escapes, in posix mode turns `!` into the history number, and with
 *   `promptvars` (the default) or in posix mode expands `$`, `$(…)` and backticks in the result;
 *   zsh expands `$`/`$(…)`/backticks with PROMPT_SUBST, then `!` with PROMPT_BANG, then `%` escapes
 *   with PROMPT_PERCENT (the default) — the last two also apply to text that came from a variable.
 * So where the shell expands variables in prompts, PS1 refers to `${_BLAST_PROMPT-}` (an expanded
 * value is never expanded again, and bash decodes escapes before expanding; `-` keeps a child shell
 * that inherits an exported PS1 quiet under `set -u`); otherwise the tag is inlined with its escapes
 * doubled. The options are read in the shell when the script runs.
 */
import type { Dialect } from './dialect.js';
import { quote } from './quote.js';

export function renderTag(dialect: Dialect, tag: string): string {
  return dialect === 'bash' ? bashTag(tag) : zshTag(tag);
}

export function renderRestore(dialect: Dialect): string {
  const test =
    dialect === 'bash' ? (v: string) => `[ -n "\${${v}+x}" ]` : (v: string) => `[[ -n \${${v}+x} ]]`;
  return [
    `if ${test('_BLAST_PS1_SAVED')}; then`,
    `  if ${test('_BLAST_OLD_PS1')}; then ${dialect === 'zsh' ? 'typeset -g ' : ''}PS1="$_BLAST_OLD_PS1"; else unset -v PS1; fi`,
    '  unset -v _BLAST_OLD_PS1 _BLAST_PS1_SAVED _BLAST_PROMPT',
    'fi',
  ].join('\n');
}

/** Set the current prompt aside unless that was already done (switching keeps the first one). */
function save(dialect: Dialect): string[] {
  if (dialect === 'bash') {
    return [
      '  if [ -z "${_BLAST_PS1_SAVED-}" ]; then',
      '    _BLAST_PS1_SAVED=1',
      '    if [ -n "${PS1+x}" ]; then _BLAST_OLD_PS1="$PS1"; else unset -v _BLAST_OLD_PS1; fi',
      '  fi',
    ];
  }
  // typeset -g: global on purpose, and silent under WARN_CREATE_GLOBAL.
  return [
    '  if [[ -z ${_BLAST_PS1_SAVED-} ]]; then',
    '    typeset -g _BLAST_PS1_SAVED=1',
    '    if [[ -n ${PS1+x} ]]; then typeset -g _BLAST_OLD_PS1="$PS1"; else unset -v _BLAST_OLD_PS1; fi',
    '  fi',
  ];
}

function bashTag(tag: string): string {
  const backslashes = tag.replaceAll('\\', '\\\\');
  return [
    'if [ -z "${VIRTUAL_ENV_DISABLE_PROMPT-}" ]; then',
    ...save('bash'),
    `  _BLAST_PROMPT=${quote(tag)}`,
    // Posix mode expands prompts even without promptvars (bash's decode_prompt_string).
    '  if shopt -q promptvars || shopt -qo posix; then',
    `    PS1='\${_BLAST_PROMPT-}'"\${_BLAST_OLD_PS1-}"`,
    '  else',
    `    PS1=${quote(backslashes)}"\${_BLAST_OLD_PS1-}"`,
    '  fi',
    'fi',
  ].join('\n');
}

function zshTag(tag: string): string {
  const percent = tag.replaceAll('%', '%%');
  return [
    'if [[ -z ${VIRTUAL_ENV_DISABLE_PROMPT-} ]]; then',
    ...save('zsh'),
    '  if [[ -o promptpercent && -o promptbang ]]; then',
    `    typeset -g _BLAST_PROMPT=${quote(percent.replaceAll('!', '!!'))}`,
    '  elif [[ -o promptpercent ]]; then',
    `    typeset -g _BLAST_PROMPT=${quote(percent)}`,
    '  elif [[ -o promptbang ]]; then',
    `    typeset -g _BLAST_PROMPT=${quote(tag.replaceAll('!', '!!'))}`,
    '  else',
    `    typeset -g _BLAST_PROMPT=${quote(tag)}`,
    '  fi',
    '  if [[ -o promptsubst ]]; then',
    `    typeset -g PS1='\${_BLAST_PROMPT-}'"\${_BLAST_OLD_PS1-}"`,
    '  else',
    '    typeset -g PS1="$_BLAST_PROMPT${_BLAST_OLD_PS1-}"',
    '  fi',
    'fi',
  ].join('\n');
}
