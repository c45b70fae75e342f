/**
 * The activated subshell for users without the shell function (like `poetry shell`), done without
 * typing into a tty (poetry#4121): the shell is pointed at generated startup files that run the
 * user's own files first, then define `blast`, then apply the activation. Last, so an rc file that
 * prepends to PATH cannot push the environment down (poetry#4216).
 */
import type { SubshellContext, SubshellSpec } from 'blast/contract';
import { join } from 'node:path';
import { init } from './init.js';
import { quote } from './quote.js';

/** The protocol variables belong to one CLI call; the subshell must not inherit them. */
const PROTOCOL = (ctx: SubshellContext) => ({ [ctx.scriptVariable]: null, [ctx.shellVariable]: null });

export function bashSubshell(ctx: SubshellContext): SubshellSpec {
  const rc = join(ctx.dir, 'bashrc');
  const content = [
    '# Blast subshell: the startup files an interactive non-login bash reads, then Blast.',
    // --rcfile replaces both; Debian-style builds read the system file first, others have none.
    'if [ -f /etc/bash.bashrc ]; then . /etc/bash.bashrc; fi',
    'if [ -f ~/.bashrc ]; then . ~/.bashrc; fi',
    init('bash', ctx),
    ctx.activation,
  ].join('\n');
  return { command: 'bash', args: ['--rcfile', rc, '-i'], env: PROTOCOL(ctx), files: { [rc]: content } };
}

/**
 * zsh has no --rcfile: ZDOTDIR points at ctx.dir so zsh reads our .zshenv and .zshrc. Each one puts
 * the user's ZDOTDIR back (unset if it was) around the user's file of the same name — zsh itself
 * uses ${ZDOTDIR-$HOME} — so the user's files see and may change ZDOTDIR as in a normal start
 * (a ~/.zshenv that sets ZDOTDIR=~/.config/zsh moves .zshrc there, as usual).
 */
export function zshSubshell(ctx: SubshellContext): SubshellSpec {
  const zshenv = join(ctx.dir, '.zshenv');
  const zshrc = join(ctx.dir, '.zshrc');
  const user = ctx.env.ZDOTDIR;
  const envContent = [
    "# Blast subshell: the user's .zshenv with the user's ZDOTDIR, then back here for .zshrc.",
    user === undefined ? 'unset -v ZDOTDIR' : `ZDOTDIR=${quote(user)}`,
    'if [[ -f ${ZDOTDIR-$HOME}/.zshenv ]]; then builtin . "${ZDOTDIR-$HOME}/.zshenv"; fi',
    'if [[ -n ${ZDOTDIR+x} ]]; then typeset -g _BLAST_ZDOTDIR="$ZDOTDIR"; else unset -v _BLAST_ZDOTDIR; fi',
    `ZDOTDIR=${quote(ctx.dir)}`,
    '',
  ].join('\n');
  const rcContent = [
    "# Blast subshell: ZDOTDIR as the user's startup left it, the user's .zshrc, then Blast.",
    'if [[ -n ${_BLAST_ZDOTDIR+x} ]]; then ZDOTDIR=$_BLAST_ZDOTDIR; else unset -v ZDOTDIR; fi',
    'unset -v _BLAST_ZDOTDIR',
    'if [[ -f ${ZDOTDIR-$HOME}/.zshrc ]]; then builtin . "${ZDOTDIR-$HOME}/.zshrc"; fi',
    init('zsh', ctx),
    ctx.activation,
  ].join('\n');
  return {
    command: 'zsh',
    args: ['-i'],
    env: { ...PROTOCOL(ctx), ZDOTDIR: ctx.dir },
    files: { [zshenv]: envContent, [zshrc]: rcContent },
  };
}
