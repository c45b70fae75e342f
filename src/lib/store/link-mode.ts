/**
 * How files travel between environments and the store (`BLAST_LINK_MODE`, as uv's `UV_LINK_MODE`):
 *
 * - `auto` (default): a copy-on-write clone where the file system has it (btrfs, XFS, APFS…;
 *   `COPYFILE_FICLONE_FORCE`), else a hard link. uv's default on Linux.
 * - `clone`: a clone; where the file system cannot clone (ext4, tmpfs, another device) a plain
 *   copy instead, never a hard link: who asks for clones asks for inodes that are not shared, and
 *   a copy keeps that promise at the cost of disk (uv falls back to a copy too).
 * - `hardlink`: a hard link (a copy only where links are impossible: another device).
 * - `copy`: always a copy. Environment and store never share an inode: always safe.
 *
 * A hard link shares the inode, so a write *into* the file (`>>`, vim's `backupcopy=auto` on a
 * file with several links, some editors' save) changes the stored object too. objects.ts seals
 * every object (its size and mtime recorded at store time) and checks the seal before the object
 * is trusted, in every mode: a clone or copy can still be damaged in the store itself.
 */
import { BlastError, ExitCode } from '../cli/errors.js';
import type { Env } from '../paths.js';

export const LINK_MODES = ['auto', 'clone', 'hardlink', 'copy'] as const;
export type LinkMode = (typeof LINK_MODES)[number];

/** The link mode `BLAST_LINK_MODE` asks for (unset or empty: auto); a clear error for anything else. */
export function linkModeOf(env: Env = process.env): LinkMode {
  const value = env.BLAST_LINK_MODE;
  if (value === undefined || value === '') return 'auto';
  if ((LINK_MODES as readonly string[]).includes(value)) return value as LinkMode;
  throw new BlastError(
    `BLAST_LINK_MODE=${JSON.stringify(value)} is not a link mode.`,
    ExitCode.usage,
    `Set it to one of ${LINK_MODES.join(', ')}, or unset it (auto).`,
  );
}
