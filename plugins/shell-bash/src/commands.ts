/**
 * ShellChange's commands (venv's habits): `deactivate` and `pydoc` as functions while an
 * environment is active, the shell's own function and alias of the name kept aside and given back.
 *
 * State, never exported, per name N:
 *   _BLAST_CMD_N     set once N was taken over (a switch defines again without keeping again)
 *   _BLAST_CMD_FN_N  the shell's own function N, as code that defines it again; unset if none
 *   _BLAST_CMD_AL_N  the shell's own alias N (its value); unset if none
 * An alias is removed while Blast's function stands: typed, it would win over any function.
 * `function N {` is the form no alias can hijack. bash keeps a function's text with `declare -f`;
 * zsh has both in its `functions` and `aliases` parameters, and assigning them defines again.
 */
import type { Dialect } from './dialect.js';
import { checkName, quote } from './quote.js';

const isSet = (d: Dialect, v: string) => (d === 'bash' ? `[ -n "\${${v}+x}" ]` : `[[ -n \${${v}+x} ]]`);
const g = (d: Dialect) => (d === 'zsh' ? 'typeset -g ' : '');

export function renderDefine(dialect: Dialect, name: string, run: readonly string[]): string {
  const n = checkName(name);
  const keep =
    dialect === 'bash'
      ? [
          `  if alias ${n} >/dev/null 2>&1; then _BLAST_CMD_AL_${n}=$(alias ${n}); unalias ${n}; fi`,
          `  if declare -F ${n} >/dev/null; then _BLAST_CMD_FN_${n}=$(declare -f ${n}); fi`,
        ]
      : [
          `  if (( \${+aliases[${n}]} )); then typeset -g _BLAST_CMD_AL_${n}="\${aliases[${n}]}"; unalias ${n}; fi`,
          `  if (( \${+functions[${n}]} )); then typeset -g _BLAST_CMD_FN_${n}="\${functions[${n}]}"; fi`,
        ];
  return [
    `if ! ${isSet(dialect, `_BLAST_CMD_${n}`)}; then`,
    `  ${g(dialect)}_BLAST_CMD_${n}=1`,
    ...keep,
    'fi',
    `function ${n} { ${run.map(quote).join(' ')} "$@"; }`,
  ].join('\n');
}

export function renderRestore(dialect: Dialect, name: string): string {
  const n = checkName(name);
  const fn = `_BLAST_CMD_FN_${n}`;
  const al = `_BLAST_CMD_AL_${n}`;
  const giveBack =
    dialect === 'bash'
      ? [
          `  if ${isSet(dialect, fn)}; then eval "$${fn}"; fi`,
          `  if ${isSet(dialect, al)}; then eval "$${al}"; fi`,
        ]
      : [
          `  if ${isSet(dialect, fn)}; then functions[${n}]="$${fn}"; fi`,
          `  if ${isSet(dialect, al)}; then aliases[${n}]="$${al}"; fi`,
        ];
  return [
    `if ${isSet(dialect, `_BLAST_CMD_${n}`)}; then`,
    `  unset -f ${n}`,
    ...giveBack,
    `  unset -v _BLAST_CMD_${n} ${fn} ${al}`,
    'fi',
  ].join('\n');
}
