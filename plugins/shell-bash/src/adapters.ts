/** The two adapters: bash and zsh differ only where their syntax or startup files differ. */
import type { ShellAdapter } from 'blast/contract';
import { autoHook } from './auto.js';
import { init, sourceLine } from './init.js';
import { quote } from './quote.js';
import { render } from './render.js';
import { bashSubshell, zshSubshell } from './subshell.js';

export const bash: ShellAdapter = {
  name: 'bash',
  rcFile: '.bashrc',
  rcLine: (bin) => `eval "$(${quote(bin)} init bash)"`,
  initFile: { extension: 'bash', sourceLine: (file) => sourceLine('bash', file) },
  autoHook: (spec) => autoHook('bash', spec),
  init: (ctx) => init('bash', ctx),
  render: (change) => render('bash', change),
  quote,
  subshell: bashSubshell,
};

export const zsh: ShellAdapter = {
  name: 'zsh',
  rcFile: '.zshrc',
  rcLine: (bin) => `eval "$(${quote(bin)} init zsh)"`,
  initFile: { extension: 'zsh', sourceLine: (file) => sourceLine('zsh', file) },
  autoHook: (spec) => autoHook('zsh', spec),
  init: (ctx) => init('zsh', ctx),
  render: (change) => render('zsh', change),
  quote,
  subshell: zshSubshell,
};
