/**
 * `cacheDir/interpreters.json`: probe results keyed by the interpreter's realpath, valid while
 * the file keeps its mtime and size. Written atomically (temp file + rename) so a concurrent CLI
 * reads either the old or the new file; anything unreadable is ignored and rewritten.
 */
import { readFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { cacheDir, type Env } from '../paths.js';
import { probeId } from './probe.js';
import type { ProbeFacts } from './types.js';

export interface CacheEntry {
  mtimeMs: number;
  size: number;
  /** The facts, or why the file is not a usable Python (so a broken one is not re-run each time). */
  facts?: ProbeFacts;
  error?: string;
}

interface CacheFile {
  v: 1;
  probe: string;
  entries: Record<string, CacheEntry>;
}

export function cacheFile(env: Env): string {
  return join(cacheDir(env), 'interpreters.json');
}

export class FactsCache {
  private entries: Record<string, CacheEntry> = {};
  private dirty = false;

  constructor(readonly file: string) {
    this.load();
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    try {
      const data = JSON.parse(text) as Partial<CacheFile>;
      if (
        data &&
        data.v === 1 &&
        data.probe === probeId() &&
        data.entries &&
        typeof data.entries === 'object'
      ) {
        this.entries = data.entries;
        return;
      }
    } catch {
      // Corrupt: start over; the next save rewrites it.
    }
    this.dirty = true;
  }

  /** The entry for `realpath` if the file still has the size and mtime it had when probed. */
  get(realpath: string, stat: Stats): CacheEntry | undefined {
    const entry = this.entries[realpath];
    if (!entry || typeof entry !== 'object') return undefined;
    if (entry.mtimeMs !== stat.mtimeMs || entry.size !== stat.size) return undefined;
    if (!entry.facts && typeof entry.error !== 'string') return undefined;
    return entry;
  }

  set(realpath: string, stat: Stats, result: { facts: ProbeFacts } | { error: string }): void {
    this.entries[realpath] = { mtimeMs: stat.mtimeMs, size: stat.size, ...result };
    this.dirty = true;
  }

  /** Write if anything changed. Never fatal: a cache that cannot be written is only slower. */
  save(): void {
    if (!this.dirty) return;
    const data: CacheFile = { v: 1, probe: probeId(), entries: this.entries };
    try {
      writeFileAtomic(this.file, JSON.stringify(data) + '\n', { mode: 'umask', durable: false });
      this.dirty = false;
    } catch {
      // the next run probes again
    }
  }
}
