/**
 * The CLI's side of the shell function protocol (see ShellAdapter in contract.ts): the function
 * names a fresh private file in BLAST_SHELL_SCRIPT and sources it after the CLI exits.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { Env } from '../paths.js';

export const SCRIPT_VARIABLE = 'BLAST_SHELL_SCRIPT';
export const SHELL_VARIABLE = 'BLAST_SHELL';

/** The shell function's adapter name and script file, when Blast runs through the function. */
export function shellFunction(env: Env): { shell: string; script: string } | undefined {
  const shell = env[SHELL_VARIABLE];
  const script = env[SCRIPT_VARIABLE];
  return shell && script ? { shell, script } : undefined;
}

/** Code that goes after whatever the command writes (appendShellCode). */
let trailer = '';

/**
 * Add code to the end of the script, now and after any later writeShellScript of this process: the
 * generated init file's refresh (shell-init.ts) has the shell source the new file after the
 * command's own change.
 */
export function appendShellCode(path: string, code: string): void {
  trailer += code;
  writeShellScript(path, '');
}

/**
 * Write the code the shell function will source (and the trailer, see appendShellCode). The file must be the one the function made:
 * an existing regular file of ours, not a symlink someone planted.
 */
export function writeShellScript(path: string, code: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  } catch (error) {
    throw new BlastError(
      `Cannot write the shell function's script file ${path}: ${(error as Error).message}`,
      ExitCode.failure,
    );
  }
  try {
    const st = fstatSync(fd);
    const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    if (!st.isFile() || st.uid !== uid) {
      throw new BlastError(
        `Refusing to write shell code to ${path}: not a regular file of this user.`,
        ExitCode.failure,
      );
    }
    writeSync(fd, code + trailer);
  } finally {
    closeSync(fd);
  }
}
