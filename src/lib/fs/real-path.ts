/**
 * An environment's identity is its real path: a project reached through a symlink and through its
 * real path is one environment (one history, one daemon, one state dir, one registry entry). The
 * path is made real once, where it enters (resolveTarget); everything after uses that.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** The real path of `path`: its nearest existing ancestor resolved, plus the part not there yet. */
export function realPath(path: string): string {
  const absolute = resolve(path);
  let head = absolute;
  const missing: string[] = [];
  for (;;) {
    try {
      return join(realpathSync.native(head), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Unreadable (EACCES), a loop (ELOOP): the path as given, as before.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return absolute;
    }
    const parent = dirname(head);
    if (parent === head) return absolute;
    missing.push(basename(head));
    head = parent;
  }
}
