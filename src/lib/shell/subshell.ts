/**
 * The activated subshell `blast start` opens when the shell function is not installed (like
 * `poetry shell`): the adapter describes it, the core writes its files into a private directory,
 * runs it on the user's terminal and passes its exit status on.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import type { ShellAdapter, SubshellContext } from '../plugin-host/contract.js';
import { BlastError } from '../cli/errors.js';
import { exitStatus } from '../cli/exit-status.js';

export const SUBSHELL_VARIABLE = 'BLAST_SUBSHELL';

/** Starts the shell under another command (the `wrap` event: a sandbox, limits), or as it is. */
export type SubshellWrapper = (
  command: string,
  args: string[],
  env: Record<string, string>,
  /** The private directory with the shell's files, which the shell must be able to read. */
  dir: string,
) => Promise<{ command: string; args: string[]; env: Record<string, string> }>;

export async function runSubshell(
  adapter: ShellAdapter,
  ctx: Omit<SubshellContext, 'dir'>,
  wrap?: SubshellWrapper,
): Promise<number> {
  // mkdtemp makes the directory 0700: the rc files inside hold the user's variables.
  const dir = await mkdtemp(join(tmpdir(), 'blast-subshell-'));
  const ignored = ['SIGINT', 'SIGQUIT', 'SIGTSTP'] as const;
  const ignore = () => {};
  try {
    const spec = adapter.subshell({ ...ctx, dir });
    for (const [path, content] of Object.entries(spec.files ?? {})) {
      const rel = relative(dir, path);
      if (!isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel)) {
        throw new BlastError(`Shell adapter ${adapter.name} wanted to write ${path}, outside its directory.`);
      }
      await writeFile(path, content, { mode: 0o600 });
    }
    // Marks the subshell as Blast's, so `blast kill` inside it can say that `exit` leaves it.
    const env: Record<string, string> = { [SUBSHELL_VARIABLE]: '1' };
    for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v;
    for (const [k, v] of Object.entries(spec.env ?? {})) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
    // The terminal sends ^C and ^Z to the whole foreground group; they are the subshell's to handle.
    const run = wrap
      ? await wrap(spec.command, spec.args, env, dir)
      : { command: spec.command, args: spec.args, env };
    for (const signal of ignored) process.on(signal, ignore);
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(run.command, run.args, { stdio: 'inherit', env: run.env });
      child.on('error', (error) => reject(new BlastError(`Cannot start ${run.command}: ${error.message}`)));
      child.on('exit', (code, signal) => resolve(exitStatus(code, signal)));
    });
  } finally {
    for (const signal of ignored) process.off(signal, ignore);
    await rm(dir, { recursive: true, force: true });
  }
}
