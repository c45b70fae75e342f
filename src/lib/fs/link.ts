/**
 * Placing a file's bytes at another path by hard link where the file system allows it, else by a
 * copy (a copy-on-write clone where it has them), keeping the mtime (.pyc files check their
 * source's). The venv seed and the object store both place files this way.
 */
import {
  chmodSync,
  copyFileSync,
  constants,
  existsSync,
  linkSync,
  mkdirSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** Errors where a hard link cannot be made and a copy must do. */
export const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);
/** Errors where a clone cannot be made (the file system has no reflinks, or another device). */
export const NO_CLONE = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EPERM']);

/** linkSync, creating the destination's directory when it is missing (rarely: tried first). */
export function linkMakingDir(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(src)) throw error;
    mkdirSync(dirname(dest), { recursive: true });
    linkSync(src, dest);
  }
}

/** Give `dest` the times of `src` (and `mode`, when given: a copy made under a temp name). */
export function keepTimes(src: string, dest: string, mode?: number): void {
  const st = statSync(src);
  utimesSync(dest, st.atime, st.mtime);
  if (mode !== undefined) chmodSync(dest, mode);
}

/**
 * Hard-links files, copying where links are impossible. A failure that holds for every file
 * (another device, a file system without links) is learnt once: the next files are copied
 * without trying; a file with too many links (EMLINK) is copied alone.
 */
export class LinkOrCopy {
  private copy = false;

  place(src: string, dst: string): void {
    if (!this.copy) {
      try {
        linkSync(src, dst);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (!NO_LINK.has(code)) throw error;
        if (code !== 'EMLINK') this.copy = true;
      }
    }
    copyFileSync(src, dst, constants.COPYFILE_FICLONE);
    keepTimes(src, dst);
  }
}
