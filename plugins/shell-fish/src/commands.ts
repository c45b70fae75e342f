/**
 * ShellChange's commands (venv's habits) for fish: `deactivate` and `pydoc` as functions while an
 * environment is active. The shell's own function of the name (fish's aliases are functions too)
 * is copied aside as `_blast_kept_<name>` and copied back on kill. `_BLAST_CMD_<name>`, a global
 * never exported, says the name was taken over (a switch defines again without keeping again).
 * `functions -q` loads an autoloaded function first, so that one is kept too.
 */
import { checkName, quote } from './quote.js';

const kept = (name: string) => `_blast_kept_${name}`;

export function renderDefine(name: string, run: readonly string[]): string {
  const n = checkName(name);
  return [
    `if not set -q _BLAST_CMD_${n}`,
    `    set -g _BLAST_CMD_${n} 1`,
    `    builtin functions -e ${kept(n)}`,
    `    if builtin functions -q ${n}; builtin functions -c ${n} ${kept(n)}; end`,
    'end',
    `function ${n} --description ${quote(`Blast: ${run.join(' ')}`)}; ${run.map(quote).join(' ')} $argv; end`,
  ].join('\n');
}

export function renderRestore(name: string): string {
  const n = checkName(name);
  return [
    `if set -q _BLAST_CMD_${n}`,
    `    builtin functions -e ${n}`,
    `    if builtin functions -q ${kept(n)}; builtin functions -c ${kept(n)} ${n}; builtin functions -e ${kept(n)}; end`,
    `    set -e -g _BLAST_CMD_${n}`,
    'end',
  ].join('\n');
}
