/**
 * fish completions for `blast`, generated from the core's CompletionModel (oclif's autocomplete
 * plugin has none for fish, oclif/plugin-autocomplete#38).
 *
 * One helper, `__blast_complete_at ID [N]`, reads the command line (`commandline -opc`: the words
 * before the one being completed, unquoted) and answers whether it is at command ID — its words,
 * possibly several (`plugins link`) — with N positional arguments typed after it. It skips a flag's
 * value where the flag takes one (`--python 3.12`), so `blast start --python 3.12 <TAB>` still
 * offers environment names. The known command words and value-taking flags are written into it.
 *
 * Two levels of quoting, both fish's own: `complete`'s arguments are quoted for the line they are
 * on, and the strings fish evaluates again later — the `-n` condition is run as code, and `-a`
 * candidates are expanded like command arguments (a command substitution in them runs, `$X` is
 * replaced) — hold words that were already quoted for that second reading. Descriptions (`-d`)
 * are taken literally and quoted once.
 */
import type { CompletionModel } from 'blast/contract';
import { quote } from './quote.js';

const HELPER = '__blast_complete_at';

export function completions(bin: string, model: CompletionModel): string[] {
  const ids = model.commands.map((c) => c.id.split(' ').filter(Boolean));
  // Every command word and where it can follow: '' (after `blast`) → start, plugins; plugins → link…
  const children = new Map<string, Map<string, string>>();
  const prefixes = new Set<string>();
  model.commands.forEach((command, i) => {
    const words = ids[i]!;
    words.forEach((w, k) => {
      const parent = words.slice(0, k).join(' ');
      const here = words.slice(0, k + 1).join(' ');
      prefixes.add(here);
      const siblings = children.get(parent) ?? new Map<string, string>();
      children.set(parent, siblings);
      if (k === words.length - 1) siblings.set(w, command.summary);
      else if (!siblings.has(w)) siblings.set(w, '');
    });
  });
  const valueFlags = model.commands.flatMap((c) =>
    c.flags
      .filter((f) => f.takesValue)
      .flatMap((f) => [`${c.id} --${f.name}`, ...(f.char ? [`${c.id} -${f.char}`] : [])]),
  );

  const at = (id: string, args?: number) =>
    quote(`${HELPER} ${quote(id)}${args === undefined ? '' : ` ${args}`}`);
  const lines = [
    `function ${HELPER} --description 'Blast completion: is the command line at command $argv[1] (with $argv[2] arguments)?'`,
    '    set -l _BLAST_C_WORDS (commandline -opc)',
    '    set -l _BLAST_C_ID',
    '    set -l _BLAST_C_ARGS 0',
    '    set -l _BLAST_C_SKIP 0',
    '    set -l _BLAST_C_REST 0',
    '    for _BLAST_C_WORD in $_BLAST_C_WORDS[2..-1]',
    '        set -l _BLAST_C_NEXT (string join -- " " $_BLAST_C_ID $_BLAST_C_WORD)',
    '        if test $_BLAST_C_SKIP = 1',
    '            set _BLAST_C_SKIP 0',
    '        else if test $_BLAST_C_ARGS = 0 -a $_BLAST_C_REST = 0',
    `            and builtin contains -- "$_BLAST_C_NEXT" ${[...prefixes].sort().map(quote).join(' ')}`,
    '            set -a _BLAST_C_ID $_BLAST_C_WORD',
    '        else if test $_BLAST_C_REST = 0; and test "$_BLAST_C_WORD" = --',
    '            set _BLAST_C_REST 1',
    '        else if test $_BLAST_C_REST = 0; and string match -q -- "-?*" $_BLAST_C_WORD',
    `            builtin contains -- "$_BLAST_C_ID $_BLAST_C_WORD" ${valueFlags.length ? valueFlags.map(quote).join(' ') : "''"}`,
    '            and set _BLAST_C_SKIP 1',
    '        else',
    '            set _BLAST_C_ARGS (math $_BLAST_C_ARGS + 1)',
    '        end',
    '    end',
    '    test "$_BLAST_C_ID" = "$argv[1]"; or return',
    '    set -q argv[2]; or return 0',
    '    test $_BLAST_C_ARGS = $argv[2]',
    'end',
    '',
    // Start from nothing, so sourcing the init again does not add every completion twice.
    'complete -c blast -e',
    // Arguments are command words, environment names and flag values; files only where a flag wants a path.
    'complete -c blast -f',
  ];
  for (const [parent, words] of [...children].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [w, summary] of [...words].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`complete -c blast -n ${at(parent)} -a ${quote(quote(w))}${describe(summary)}`);
    }
  }
  const list = model.listEnvironments.length
    ? `command ${[bin, ...model.listEnvironments].map(quote).join(' ')}`
    : undefined;
  for (const command of model.commands) {
    for (const flag of command.flags) {
      const parts = [`complete -c blast -n ${at(command.id)} -l ${quote(flag.name)}`];
      if (flag.char) parts.push(`-s ${quote(flag.char)}`);
      if (flag.takesValue && flag.options?.length)
        parts.push(`-x -a ${quote(flag.options.map(quote).join(' '))}`);
      else if (flag.takesValue && flag.environments && list)
        parts.push(`-x -a ${quote(`(${list} 2>/dev/null)`)}`);
      else if (flag.takesValue) parts.push('-r -F');
      lines.push(parts.join(' ') + describe(flag.summary));
    }
  }
  if (model.listSnapshots?.length) {
    const snapshots = `command ${[bin, ...model.listSnapshots].map(quote).join(' ')}`;
    for (const id of model.snapshotArgumentCommands ?? [])
      lines.push(`complete -c blast -n ${at(id, 0)} -a ${quote(`(${snapshots} 2>/dev/null)`)} -d snapshot`);
  }
  if (list) {
    for (const id of model.envArgumentCommands) {
      lines.push(`complete -c blast -n ${at(id, 0)} -a ${quote(`(${list} 2>/dev/null)`)} -d environment`);
    }
  }
  return lines;
}

function describe(summary: string): string {
  const line = summary.split('\n')[0]!.trim();
  return line ? ` -d ${quote(line)}` : '';
}
