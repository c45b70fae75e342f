/**
 * The activated subshell `blast start` opens when the shell function is not installed (like
 * `poetry shell`): the adapter describes it, the core writes its files into a private directory,
 * runs it on the user's terminal and passes its exit status on.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import type { ShellAdapter, SubshellContext } from './hooks.js';
import { BlastError } from './errors.js';

export const SUBSHELL_VARIABLE = 'BLAST_SUBSHELL';

export async function runSubshell(adapter: ShellAdapter, ctx: Omit<SubshellContext, 'dir'>): Promise<number> {
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
    for (const signal of ignored) process.on(signal, ignore);
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(spec.command, spec.args, { stdio: 'inherit', env });
      child.on('error', (error) => reject(new BlastError(`Cannot start ${spec.command}: ${error.message}`)));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    for (const signal of ignored) process.off(signal, ignore);
    await rm(dir, { recursive: true, force: true });
  }
}
