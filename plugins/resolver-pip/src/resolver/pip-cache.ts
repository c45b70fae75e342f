/**
 * pip's own cache (downloads and built wheels, one per user, shared by every environment): where
 * it is, as the environment's pip sees it (PIP_CACHE_DIR, pip.conf, XDG_CACHE_HOME), and its size.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runPipCaptured } from './pip.js';

/** The cache directory, or undefined when the cache is off (`--no-cache-dir`) or pip cannot say. */
export async function pipCacheDir(
  envPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const out = await runPipCaptured(envPath, ['cache', 'dir'], env);
  const dir = out.stdout.trim().split('\n').at(-1)?.trim();
  return out.status === 0 && dir ? dir : undefined;
}

/** Bytes under `dir` (files' sizes, links not followed); 0 when it does not exist. */
export async function directorySize(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries.map(async (e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return directorySize(path);
      return (await lstat(path).catch(() => undefined))?.size ?? 0;
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
