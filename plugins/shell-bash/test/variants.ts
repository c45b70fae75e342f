/**
 * The shells the adapters are run in, non-interactively. Besides the defaults, variants with the
 * options users really set and that change how code is read: posix mode for bash; RC_QUOTES
 * (`''` inside quotes), GLOB_SUBST, SH_WORD_SPLIT, KSH_ARRAYS, WARN_CREATE_GLOBAL for zsh.
 */
import type { ShellAdapter } from 'blast/contract';
import { bash, zsh } from '../src/adapters.js';

export interface Variant {
  label: string;
  adapter: ShellAdapter;
  argv: string[];
  /** Code run first (options). */
  setup: string;
}

export const VARIANTS: Variant[] = [
  { label: 'bash', adapter: bash, argv: ['bash', '--norc', '--noprofile'], setup: '' },
  { label: 'bash --posix', adapter: bash, argv: ['bash', '--posix', '--norc', '--noprofile'], setup: '' },
  { label: 'zsh -f', adapter: zsh, argv: ['zsh', '-f'], setup: '' },
  {
    label: 'zsh -f with rcquotes globsubst shwordsplit ksharrays warncreateglobal',
    adapter: zsh,
    argv: ['zsh', '-f'],
    setup: 'setopt rcquotes globsubst shwordsplit ksharrays warncreateglobal',
  },
];

/** Source a file the way the `blast` function does: inside a function that has locals. */
export const SOURCE_IN_FUNCTION = '__blast_test_source() { local __blast_test_local=1; . "$1"; }';

/** Tags that would run code, or show something else, if they reached the prompt language. */
export const HOSTILE_TAGS: readonly string[] = [
  '(demo) ',
  '($(touch pwned)) ',
  '(`touch pwned`) ',
  '(${HOME} $HOME) ',
  '(\\u \\w \\$ \\[ \\] \\\\) ',
  '(%n %~ %# %{ %} %%) ',
  '(! !! \\!) ',
  `('"') `,
  '(日本 😀) ',
];

/** Option settings that change what a prompt string means. */
export const PROMPT_OPTIONS: Record<string, string[]> = {
  bash: ['', 'shopt -u promptvars', 'set -o posix', 'set -o posix; shopt -u promptvars'],
  zsh: [
    '',
    'setopt promptsubst',
    'setopt promptbang',
    'setopt promptsubst promptbang',
    'unsetopt promptpercent',
    'unsetopt promptpercent; setopt promptsubst promptbang',
  ],
};
