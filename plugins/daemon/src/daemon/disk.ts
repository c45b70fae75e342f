/** Disk usage of a tree, each inode counted once (hard links shared, like du); same rule as the core. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function diskUsage(root: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    // Sequential per directory: the daemon has time, and this keeps its memory flat.
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total += st.blocks * 512;
      if (entry.isDirectory()) await walk(path);
    }
  }
  await walk(root);
  return total;
}
