/** The fish adapter. */
import type { ShellAdapter } from 'blast/contract';
import { autoHook } from './auto.js';
import { companions, init, sourceLine } from './init.js';
import { quote, word } from './quote.js';
import { render } from './render.js';
import { subshell } from './subshell.js';

export const fish: ShellAdapter = {
  name: 'fish',
  rcFile: '.config/fish/config.fish',
  // fish has no `eval "$(…)"` idiom; piping into `source` is its way (like `zoxide init fish | source`).
  rcLine: (bin) => `${word(bin)} init fish | source`,
  initFile: { extension: 'fish', sourceLine, companions },
  autoHook,
  init,
  render,
  quote,
  subshell,
};
