/**
 * The activated subshell for users without the `blast` function (like `poetry shell`), done without
 * typing into a tty (poetry#4121): `pwsh -NoExit -File <generated .ps1>`.
 *
 * pwsh runs the user's profiles (all four: all users and current user, all hosts and this host)
 * *before* the -File script, exactly as at a normal start, and runs the script dot-sourced in the
 * session. So the script only defines `blast` and applies the activation — last, so a profile that
 * prepends to PATH cannot push the environment down (poetry#4216). Dot-sourcing $PROFILE from the
 * script under -NoProfile would skip or have to imitate the other three profiles.
 *
 * The file starts with a BOM: Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page.
 * It is local (the core's private temporary directory), so the default RemoteSigned execution
 * policy lets it run; a policy that stops it stops the user's own profile as well.
 */
import type { SubshellContext, SubshellSpec } from 'blast/contract';
import { join } from 'node:path';
import { init } from './init.js';

/** The protocol variables belong to one CLI call; the subshell must not inherit them. */
const PROTOCOL = (ctx: SubshellContext) => ({ [ctx.scriptVariable]: null, [ctx.shellVariable]: null });

export const BOM = '\uFEFF';

export function subshell(ctx: SubshellContext): SubshellSpec {
  const file = join(ctx.dir, 'blast-subshell.ps1');
  const content = [
    "# Blast subshell: pwsh has run the user's profiles already; now the blast function, then the activation.",
    init(ctx),
    ctx.activation,
  ].join('\n');
  return {
    command: 'pwsh',
    args: ['-NoLogo', '-NoExit', '-File', file],
    env: PROTOCOL(ctx),
    files: { [file]: BOM + content },
  };
}
