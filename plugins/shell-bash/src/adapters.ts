/** The two adapters: bash and zsh differ only where their syntax or startup files differ. */
import type { ShellAdapter } from 'blast/contract';
import { init } from './init.js';
import { quote } from './quote.js';
import { render } from './render.js';
import { bashSubshell, zshSubshell } from './subshell.js';

export const bash: ShellAdapter = {
  name: 'bash',
  rcFile: '.bashrc',
  rcLine: (bin) => `eval "$(${quote(bin)} init bash)"`,
  init: (ctx) => init('bash', ctx),
  render: (change) => render('bash', change),
  quote,
  subshell: bashSubshell,
};

export const zsh: ShellAdapter = {
  name: 'zsh',
  rcFile: '.zshrc',
  rcLine: (bin) => `eval "$(${quote(bin)} init zsh)"`,
  init: (ctx) => init('zsh', ctx),
  render: (change) => render('zsh', change),
  quote,
  subshell: zshSubshell,
};
