/**
 * What pip leaves outside every RECORD (build leftovers, half-written directories of a failed
 * install): the tree under the watched directories is listed before pip runs, and whatever is new
 * afterwards is removed when the transaction is undone.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InsideEnv } from './inside.js';

/** Every path under the given directories of the environment (relative, `/`-separated; directories too). */
export function treePaths(root: string, dirs: readonly string[]): Set<string> {
  const out = new Set<string>();
  const walk = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      out.add(child);
      if (e.isDirectory()) walk(child);
    }
  };
  for (const dir of dirs) {
    out.add(dir);
    walk(dir);
  }
  return out;
}

/**
 * Remove what is under `dirs` now but was not in `before` (what a failed pip left outside every
 * RECORD). Only real directories are walked (a directory that is a link, or under one, is outside
 * the environment); a new link is removed itself, never what it points to.
 */
export function removeStrays(root: string, dirs: readonly string[], before: ReadonlySet<string>): number {
  let removed = 0;
  const guard = new InsideEnv(root);
  const walk = (rel: string) => {
    if (!guard.isRealDir(rel)) return;
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (!before.has(child)) {
        rmSync(join(root, child), { recursive: true, force: true });
        removed++;
      } else if (e.isDirectory()) {
        walk(child);
      }
    }
  };
  for (const dir of dirs) if (before.has(dir)) walk(dir);
  return removed;
}
