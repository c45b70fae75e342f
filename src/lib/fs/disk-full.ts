/**
 * A full disk (or an exhausted quota), said plainly. A write failing with ENOSPC or EDQUOT is not
 * damage and not a bug: the user frees space and goes on. Every place that shows an error to the
 * user (the commands' error printing, messageOf, check results) goes through `diskFullText`, so
 * the raw errno and its stack never reach the user.
 *
 * No project imports here: errors.ts builds on this file.
 */
import { statfsSync } from 'node:fs';
import { basename, dirname, sep } from 'node:path';

export const DISK_FULL_HINT = 'Free space, then run `blast check --fix`.';

/** `error` and what it wraps: `cause`, and nedb's "Failed to flush to storage" (errorOnFsync, errorOnClose). */
function chain(error: unknown, depth = 0): object[] {
  if (!error || typeof error !== 'object' || depth > 4) return [];
  const e = error as { cause?: unknown; errorOnFsync?: unknown; errorOnClose?: unknown };
  return [error, ...[e.cause, e.errorOnFsync, e.errorOnClose].flatMap((inner) => chain(inner, depth + 1))];
}

/** Whether `error` (or what it wraps) is a write that failed because the disk or quota is full. */
export function isDiskFull(error: unknown): boolean {
  return chain(error).some((e) => {
    const code = (e as { code?: unknown }).code;
    return code === 'ENOSPC' || code === 'EDQUOT';
  });
}

/** The path of the errno error that says the disk is full. */
function pathOf(error: unknown): string | undefined {
  for (const e of chain(error)) {
    const { code, path } = e as { code?: unknown; path?: unknown };
    if ((code === 'ENOSPC' || code === 'EDQUOT') && typeof path === 'string') return path;
  }
  return undefined;
}

/** What Blast keeps at `path`, in words, for the message ("the registry", "a store object"). */
export function whatIsAt(path: string): string {
  const name = basename(path);
  const parts = path.split(sep);
  if (name.startsWith('registry.db')) return 'the registry';
  if (name.startsWith('transaction.')) return "the pip transaction's journal";
  if (name.startsWith('restore.journal')) return 'the restore journal';
  if (name.startsWith('hashes.json')) return 'the hash cache';
  if (name === 'blast.json') return "the environment's settings";
  if (parts.includes('snapshots')) return 'the snapshot';
  if (parts.includes('revisions')) return 'the revision history';
  if (parts.includes('objects')) return 'a store object';
  return 'a file';
}

/** Free bytes (for this user) on the file system holding `path` (or its nearest existing parent). */
export function freeBytes(path: string): number | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/** Whether the file system holding `path` is (nearly) full: under `margin` bytes free, or no inode left. */
export function diskIsFull(path: string, margin = 1024 * 1024): boolean {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return Number(s.bavail) * Number(s.bsize) < margin || (Number(s.files) > 0 && Number(s.ffree) === 0);
    } catch {
      if (dirname(p) === p) return false;
    }
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** "(12.0 KiB free)", or "" when the file system cannot tell. */
export function freeText(path: string): string {
  const free = freeBytes(path);
  return free === undefined ? '' : ` (${formatBytes(free)} free)`;
}

/**
 * The plain words for a disk-full error: `disk full: <what> could not be written at <path> (N free)`
 * and the way out. Undefined when `error` is not one. `path` and `what` default to the error's own
 * path and what Blast keeps there.
 */
export function diskFullText(
  error: unknown,
  options: { what?: string; path?: string } = {},
): { message: string; hint: string } | undefined {
  if (!isDiskFull(error)) return undefined;
  const path = options.path ?? pathOf(error);
  if (path === undefined) return { message: 'disk full: a file could not be written', hint: DISK_FULL_HINT };
  const what = options.what ?? whatIsAt(path);
  return {
    message: `disk full: ${what} could not be written at ${path}${freeText(path)}`,
    hint: DISK_FULL_HINT,
  };
}
