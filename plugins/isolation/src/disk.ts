/**
 * How much disk an environment takes: the blocks of every file and directory under it, each
 * inode once (hard links inside the env, and the env's links into Blast's store, are one file).
 * Like `du -s`, without its process; symbolic links are not followed.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function diskUsage(root: string): Promise<number> {
  const seen = new Set<string>();
  let bytes = 0;
  const visit = async (path: string): Promise<void> => {
    let st;
    try {
      st = await lstat(path, { bigint: false });
    } catch {
      return; // removed while we walk: not there
    }
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    bytes += st.blocks * 512;
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(path);
    } catch {
      return;
    }
    // Bounded fan-out: a site-packages has thousands of entries.
    for (let i = 0; i < names.length; i += 64) {
      await Promise.all(names.slice(i, i + 64).map((name) => visit(join(path, name))));
    }
  };
  await visit(root);
  return bytes;
}
