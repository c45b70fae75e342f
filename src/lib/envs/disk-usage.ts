/** Disk usage of a directory tree, counting each inode once (hard links are shared, like du). */
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
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(dir, entry.name);
        const st = await lstat(path).catch(() => undefined);
        if (!st) return;
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) return;
        seen.add(key);
        total += st.blocks * 512;
        if (entry.isDirectory()) await walk(path);
      }),
    );
  }
  await walk(root);
  return total;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
