/**
 * Modes of the files Blast writes that can hold a user's values: `--env` variables (tokens,
 * passwords) live in each environment's blast.json and in every snapshot and revision of it. Other
 * users must read none of them: files 0600, the directories Blast makes for them 0700.
 */
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * The files and directories under `root` (itself included) that others may read or enter: files
 * with any group/other bit, directories with group/other bits. Symbolic links are not followed.
 * `recursive: false` looks at `root` alone (a 0700 directory protects what is inside it).
 */
export function openToOthers(root: string, options: { recursive?: boolean } = {}): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0 && (st.isFile() || st.isDirectory())) found.push(path);
    if (!st.isDirectory() || options.recursive === false) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) walk(join(path, name));
  };
  walk(root);
  return found;
}

/** Take group and other bits off `path` (0600 for a file, 0700 for a directory). */
export function makePrivate(path: string): void {
  const st = lstatSync(path);
  chmodSync(path, st.isDirectory() ? PRIVATE_DIR_MODE : st.mode & 0o700);
}
