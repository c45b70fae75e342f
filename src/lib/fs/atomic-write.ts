/**
 * The one atomic write of the project: a temp file beside the target, written whole, fsync, rename
 * (or, for a create-only write, a hard link: atomic and failing when the target exists), fsync of
 * the directory. A reader sees the old file or the new one, never half of either; a crash leaves
 * at most the temp, named `.<pid>-<ms>.tmp` so cleaners can tell whose it was (store/gc.ts).
 */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { diskFullError } from '../cli/errors.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './file-modes.js';
import { crashPoint } from '../store/crash.js';

export interface AtomicWriteOptions {
  /**
   * The file's mode. `private` (the default): 0600, and 0700 for directories made for it, whatever
   * the umask: Blast's own files (snapshots, revisions, journals, blast.json) can hold a user's
   * values (`--env` tokens, passwords). `umask`: what the user asked for at a path of theirs (a lock
   * export, a new rc file, a cache), 0666 less the umask. A number: exactly that mode (a replaced
   * rc file keeps its own, 0664 stays 0664; a shim is 0755).
   */
  mode?: 'private' | 'umask' | number;
  /** Only create the file: when it exists, write nothing and return false. */
  exclusive?: boolean;
  /** A test crash point (store/crash.ts) between the written temp and the rename. */
  step?: string;
  /**
   * fsync the file and its directory (the default). A cache passes false: losing it to a crash
   * costs only time, and its writer should not wait on the disk.
   */
  durable?: boolean;
}

/** Write `data` to `file` atomically; false only for an `exclusive` write that found the file there. */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): boolean {
  const mode = options.mode ?? 'private';
  const durable = options.durable ?? true;
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, ...(mode === 'private' ? { mode: PRIVATE_DIR_MODE } : {}) });
  const temp = join(dir, `.${process.pid}-${Date.now()}.tmp`);
  let written = true;
  try {
    const fd = openSync(temp, 'w', mode === 'private' ? PRIVATE_FILE_MODE : mode === 'umask' ? 0o666 : mode);
    try {
      // open(2) applies the umask, and a temp a killed process left under this name keeps its old
      // mode: the mode asked for is set whole.
      if (mode !== 'umask') fchmodSync(fd, mode === 'private' ? PRIVATE_FILE_MODE : mode);
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.step) crashPoint(options.step);
    if (options.exclusive) {
      try {
        linkSync(temp, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        written = false;
      } finally {
        unlinkSync(temp);
      }
    } else renameSync(temp, file);
  } catch (error) {
    // The old file is untouched; a half-written temp must not stay behind (on a full disk, it
    // holds the very space the next write needs).
    rmSync(temp, { force: true });
    throw diskFullError(error, { path: file }) ?? error;
  }
  if (durable && written) syncDir(dir);
  return written;
}

/** fsync a directory, so a rename in it survives a crash. */
function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // directories cannot be opened everywhere; the rename itself is atomic
  }
  try {
    fsyncSync(fd);
  } catch {
    // nor synced everywhere
  } finally {
    closeSync(fd);
  }
}
