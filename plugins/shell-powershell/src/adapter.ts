/** The PowerShell adapter: pwsh 7 first, written to stay valid in Windows PowerShell 5.1. */
import type { ShellAdapter } from 'blast/contract';
import { init, rcLine, sourceLine } from './init.js';
import { quote } from './quote.js';
import { render } from './render.js';
import { subshell } from './subshell.js';

export const powershell: ShellAdapter = {
  name: 'powershell',
  aliases: ['pwsh'],
  // $PROFILE (CurrentUserCurrentHost) of pwsh on Linux and macOS.
  rcFile: '.config/powershell/Microsoft.PowerShell_profile.ps1',
  rcLine,
  // Windows PowerShell 5.1 reads a profile without BOM in the ANSI code page.
  rcEncoding: 'utf8-bom',
  // The generated file is a .ps1 (dot-sourcing wants the extension), written with a BOM too.
  initFile: { extension: 'ps1', sourceLine },
  init,
  render,
  quote,
  subshell,
};
