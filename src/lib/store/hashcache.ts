/**
 * What a file's content hashed to, by its inode's identity: `<state>/envs/<env-hash>/hashes.json`
 * maps a path to [ino, size, mtimeMs, ctimeMs, mode, sha256] as they were after it was stored.
 * A snapshot trusts the hash only while the file still has exactly that inode, size, mtime and
 * ctime (any write, chmod or re-link changes the ctime), so it skips reading files that pip left
 * alone even when they are not the store's own inode (their content was in the store already,
 * so they were never linked into it). Read only when a file is not the store's inode, written
 * only when a file was hashed: a settled environment costs nothing. A cache lost or corrupt only
 * costs reading the files again. A restore reads it too, and records the files it cloned or copied
 * (link modes other than hardlink): their inodes are not the store's, and without it every restore
 * would read every file of the environment to know whether it already is the snapshot's.
 */
import { mkdirSync, readFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Env } from '../paths.js';
import { envStateDir } from './journal-files.js';

/** `<state>/envs/<env-hash>/hashes.json` of the environment at `root` (resolved). */
export function hashCachePath(root: string, env?: Env): string {
  return join(envStateDir(root, env), 'hashes.json');
}

type Row = [ino: number, size: number, mtimeMs: number, ctimeMs: number, mode: number, sha256: string];

export class HashCache {
  private rows: Map<string, Row> | undefined;
  private readonly updates = new Map<string, Row>();
  private readonly seen = new Set<string>();
  /** Rows were forgotten: the file is written again even without a new hash. */
  private dropped = false;

  constructor(private readonly file: string) {}

  private load(): Map<string, Row> {
    if (this.rows) return this.rows;
    this.rows = new Map();
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as {
        v?: number;
        files?: Record<string, Row>;
      };
      if (parsed?.v === 1 && parsed.files && typeof parsed.files === 'object')
        this.rows = new Map(Object.entries(parsed.files));
    } catch {
      // none yet, or unreadable: every file is hashed
    }
    return this.rows;
  }

  /** A path this snapshot has (the others drop out of the cache when it is written). */
  saw(rel: string): void {
    this.seen.add(rel);
  }

  /** The hash of `rel` when `st` is still the very inode state it was cached with. */
  get(rel: string, st: Stats): string | undefined {
    const r = this.load().get(rel);
    if (
      !Array.isArray(r) ||
      r[0] !== st.ino ||
      r[1] !== st.size ||
      r[2] !== st.mtimeMs ||
      r[3] !== st.ctimeMs ||
      r[4] !== (st.mode & 0o7777) ||
      typeof r[5] !== 'string'
    )
      return undefined;
    return r[5];
  }

  set(rel: string, st: Stats, sha256: string): void {
    this.updates.set(rel, [st.ino, st.size, st.mtimeMs, st.ctimeMs, st.mode & 0o7777, sha256]);
  }

  /**
   * Rows of paths that are no longer what was hashed (a restore linked the store's own inode there,
   * or removed the file): dropped at the next save. Reads the cache, so it is asked only where
   * paths changed; a cache that has none of them is not written again.
   */
  forget(rels: Iterable<string>): void {
    const rows = this.load();
    for (const rel of rels) if (rows.delete(rel)) this.dropped = true;
  }

  /**
   * Write the cache when files were hashed or rows forgotten, keeping only paths this snapshot
   * saw; with `prune` false every other row too (a restore sees only the paths it changed).
   */
  save(prune = true): void {
    if (this.updates.size === 0 && !this.dropped) return;
    const rows = this.load();
    for (const [rel, row] of this.updates) rows.set(rel, row);
    const files: Record<string, Row> = {};
    for (const [rel, row] of rows) if (!prune || this.seen.has(rel)) files[rel] = row;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file, JSON.stringify({ v: 1, files }), { mode: 'umask', durable: false });
    } catch {
      // a cache only (writeFileAtomic leaves no temp behind, even on a full disk)
    }
  }
}
