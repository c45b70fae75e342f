/**
 * The prompt hook of `blast init bash|zsh --auto` (the core's AutoHookSpec rendered): bash runs it
 * first in PROMPT_COMMAND (a string or, bash 5.1+, an array: the user's entries stay, in order),
 * zsh first in precmd_functions. It keeps `$?` for what runs after it.
 *
 * When $PWD is what it was at the last prompt it returns at once: one test, no process. Otherwise
 * it walks up with `[ -f ]` and `${d%/*}` only, and calls `blast` only when the project changed.
 * State, never exported: _BLAST_AUTO_PWD (the last $PWD seen), _BLAST_AUTO_PROJECT (the last
 * project found, '' for none). Sourced again (a regenerated init file), it adds nothing twice.
 */
import type { AutoHookSpec } from 'blast/contract';
import type { Dialect } from './dialect.js';
import { quote } from './quote.js';

const HOOK = '_blast_auto_hook';

export function autoHook(dialect: Dialect, spec: AutoHookSpec): string {
  return (dialect === 'bash' ? bash(spec) : zsh(spec)).join('\n') + '\n';
}

function call(spec: AutoHookSpec): string {
  return `blast ${spec.command.map(quote).join(' ')} "$_BLAST_FN_FOUND"`;
}

function bash(spec: AutoHookSpec): string[] {
  const found = spec.markers.map((m) => `[ -f "$_BLAST_FN_DIR"/${quote(m)} ]`).join(' || ');
  return [
    `function ${HOOK} {`,
    '  local _BLAST_FN_STATUS=$?',
    '  if [ "${_BLAST_AUTO_PWD-}" = "$PWD" ]; then return "$_BLAST_FN_STATUS"; fi',
    '  _BLAST_AUTO_PWD=$PWD',
    '  local _BLAST_FN_DIR=$PWD _BLAST_FN_FOUND= _BLAST_FN_HOME=${HOME%/}',
    '  while [ -n "$_BLAST_FN_DIR" ] && [ "$_BLAST_FN_DIR" != / ] && [ "$_BLAST_FN_DIR" != "$_BLAST_FN_HOME" ]; do',
    `    if ${found}; then _BLAST_FN_FOUND=$_BLAST_FN_DIR; break; fi`,
    '    _BLAST_FN_DIR=${_BLAST_FN_DIR%/*}',
    '  done',
    '  local _BLAST_FN_LAST=${_BLAST_AUTO_PROJECT-}',
    '  _BLAST_AUTO_PROJECT=$_BLAST_FN_FOUND',
    `  if [ "$_BLAST_FN_FOUND" != "$_BLAST_FN_LAST" ]; then ${call(spec)}; fi`,
    '  return "$_BLAST_FN_STATUS"',
    '}',
    `case ";\${PROMPT_COMMAND[*]-};" in`,
    `  *${HOOK}*) ;;`,
    '  *)',
    '    if [ -n "${PROMPT_COMMAND+x}" ] && [ "${#PROMPT_COMMAND[@]}" -gt 1 ]; then',
    `      PROMPT_COMMAND=(${HOOK} "\${PROMPT_COMMAND[@]}")`,
    '    else',
    `      PROMPT_COMMAND="${HOOK}\${PROMPT_COMMAND:+;$PROMPT_COMMAND}"`,
    '    fi',
    '    ;;',
    'esac',
  ];
}

function zsh(spec: AutoHookSpec): string[] {
  const found = spec.markers.map((m) => `-f $_BLAST_FN_DIR/${quote(m)}`).join(' || ');
  return [
    `function ${HOOK} {`,
    '  local _BLAST_FN_STATUS=$?',
    '  if [[ ${_BLAST_AUTO_PWD-} == "$PWD" ]]; then return $_BLAST_FN_STATUS; fi',
    '  typeset -g _BLAST_AUTO_PWD=$PWD',
    '  local _BLAST_FN_DIR=$PWD _BLAST_FN_FOUND= _BLAST_FN_HOME=${HOME%/}',
    '  while [[ -n $_BLAST_FN_DIR && $_BLAST_FN_DIR != / && $_BLAST_FN_DIR != "$_BLAST_FN_HOME" ]]; do',
    `    if [[ ${found} ]]; then _BLAST_FN_FOUND=$_BLAST_FN_DIR; break; fi`,
    '    _BLAST_FN_DIR=${_BLAST_FN_DIR%/*}',
    '  done',
    '  local _BLAST_FN_LAST=${_BLAST_AUTO_PROJECT-}',
    '  typeset -g _BLAST_AUTO_PROJECT=$_BLAST_FN_FOUND',
    `  if [[ $_BLAST_FN_FOUND != "$_BLAST_FN_LAST" ]]; then ${call(spec)}; fi`,
    '  return $_BLAST_FN_STATUS',
    '}',
    `if (( ! \${precmd_functions[(Ie)${HOOK}]:-0} )); then precmd_functions=(${HOOK} \${precmd_functions[@]}); fi`,
  ];
}
