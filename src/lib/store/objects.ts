/**
 * The content-addressed object store: `<BLAST_HOME>/store/objects/<2 hex>/<sha256>-<mode>`. An
 * object is keyed by its content and its permission bits: hard links share one inode, so a file
 * that is 0755 and one that is 0644 with the same bytes are two objects, and linking an object
 * back gives the file exactly its mode. Objects arrive by hard link when the source is on the same
 * filesystem (the environment's file and the object are then one inode, its mode and mtime
 * untouched: taking a snapshot changes nothing in the environment), else by a verified copy, and
 * always under a temporary name renamed into place, so a crash never leaves a half object.
 *
 * Nothing here writes into an object once it is in place: objects are opened read-only, and pip
 * replaces files by unlinking them first, so an upgrade in one environment never reaches another.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { BlastError, ExitCode } from '../errors.js';
import { blastHome, type Env } from '../paths.js';
import { crashPoint } from './crash.js';
import { alive } from './pid-lock.js';

/** `<BLAST_HOME>/store`. */
export function storeDir(env: Env = process.env): string {
  return join(blastHome(env), 'store');
}

export interface ObjectRef {
  sha256: string;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function keyOf(ref: ObjectRef): string {
  return `${ref.sha256}-${(ref.mode & 0o7777).toString(8)}`;
}

/** Errors where a hard link cannot be made and a copy must do. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

/** This process's tag in tempName: a pid reused by another process does not make its names ours. */
export const TEMP_TAG = randomBytes(4).toString('hex');
let tempCount = 0;

/** `.tmp-<pid>-<random>-<n>` in `dir`: unique, and its pid tells whether its maker still runs. */
export function tempName(dir: string): string {
  return join(dir, `.tmp-${process.pid}-${TEMP_TAG}-${++tempCount}`);
}

/** linkSync, creating the destination's directory when it is missing (rarely: tried first). */
function linkMakingDir(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(src)) throw error;
    mkdirSync(dirname(dest), { recursive: true });
    linkSync(src, dest);
  }
}

let hashBuffer: Buffer | undefined;

/** SHA-256 (hex) of a file's bytes, read in chunks. */
export function hashFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = (hashBuffer ??= Buffer.allocUnsafe(1 << 20));
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export class ObjectStore {
  readonly objects: string;

  constructor(readonly root: string) {
    this.objects = join(root, 'objects');
  }

  static of(env: Env = process.env): ObjectStore {
    return new ObjectStore(storeDir(env));
  }

  pathOf(ref: ObjectRef): string {
    if (!HEX64.test(ref.sha256)) throw new BlastError(`Invalid object hash ${JSON.stringify(ref.sha256)}.`);
    if (!Number.isInteger(ref.mode) || ref.mode < 0 || ref.mode > 0o7777) {
      throw new BlastError(`Invalid object mode ${JSON.stringify(ref.mode)}.`);
    }
    return join(this.objects, ref.sha256.slice(0, 2), keyOf(ref));
  }

  /** The object's stats, or undefined when the store lacks it. */
  statOf(ref: ObjectRef): Stats | undefined {
    try {
      return statSync(this.pathOf(ref));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  has(ref: ObjectRef): boolean {
    return this.statOf(ref) !== undefined;
  }

  /**
   * Store the file at `src`, whose content hashes to `ref.sha256` and whose permission bits are
   * `ref.mode`: by hard link when possible, else by a copy verified against the hash. Returns
   * whether the object was new.
   */
  put(src: string, ref: ObjectRef): boolean {
    const dest = this.pathOf(ref);
    if (this.has(ref)) return false;
    const temp = tempName(dirname(dest));
    const mode = ref.mode & 0o7777;
    try {
      try {
        linkMakingDir(src, temp);
        if ((lstatSync(temp).mode & 0o7777) !== mode) chmodSync(temp, mode); // changed since it was hashed
      } catch (error) {
        if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        mkdirSync(dirname(dest), { recursive: true });
        this.copyVerified(src, temp, ref.sha256, mode);
      }
      crashPoint('store-object-temp');
      renameSync(temp, dest);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
      throw error;
    }
    return true;
  }

  private copyVerified(src: string, temp: string, sha256: string, mode: number): void {
    const data = readFileSync(src);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== sha256) {
      throw new BlastError(
        `${src} changed while it was being stored.`,
        ExitCode.failure,
        'Run the command again.',
      );
    }
    const fd = openSync(temp, 'wx', mode);
    try {
      let off = 0;
      while (off < data.length) off += writeAll(fd, data, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const st = statSync(src);
    utimesSync(temp, st.atime, st.mtime);
    chmodSync(temp, mode);
  }

  /**
   * Make `dest` the object `ref`: a hard link (a copy where links are impossible). Where `dest`
   * is absent the link is made in place (one atomic step); else under a temporary name in the
   * same directory, renamed over whatever `dest` was.
   */
  materialize(ref: ObjectRef, dest: string): void {
    const src = this.pathOf(ref);
    try {
      linkMakingDir(src, dest);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new BlastError(
          `The store lacks the object for ${dest} (${keyOf(ref)}).`,
          ExitCode.failure,
          'The snapshot cannot be restored from this store.',
        );
      }
      if (code !== 'EEXIST' && !NO_LINK.has(code ?? '')) throw error;
    }
    const temp = tempName(dirname(dest));
    try {
      try {
        linkSync(src, temp);
      } catch (error) {
        if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        copyFileSync(src, temp);
        const st = statSync(src);
        utimesSync(temp, st.atime, st.mtime);
        chmodSync(temp, ref.mode & 0o7777);
      }
      crashPoint('restore-temp-linked');
      renameSync(temp, dest);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
      throw error;
    }
  }

  /**
   * Temporary files that processes killed while storing an object left behind (`.tmp-<pid>-*`
   * of a pid that no longer runs); removed unless `dryRun`. Returns their paths.
   */
  staleTemps(dryRun = false): string[] {
    const out: string[] = [];
    let dirs: string[];
    try {
      dirs = readdirSync(this.objects);
    } catch {
      return out;
    }
    for (const d of dirs) {
      let names: string[];
      try {
        names = readdirSync(join(this.objects, d));
      } catch {
        continue;
      }
      for (const n of names) {
        const m = /^\.tmp-(\d+)-/.exec(n);
        if (!m || alive(Number(m[1]))) continue;
        const path = join(this.objects, d, n);
        out.push(path);
        if (!dryRun) {
          try {
            unlinkSync(path);
          } catch {
            // gone meanwhile
          }
        }
      }
    }
    return out;
  }

  /** Whether the file at `path` is exactly the object `ref`: the same inode, or equal bytes and mode. */
  holds(path: string, ref: ObjectRef): boolean {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      return false;
    }
    if (!st.isFile()) return false;
    const obj = this.statOf(ref);
    if (obj && obj.ino === st.ino && obj.dev === st.dev) return true;
    if ((st.mode & 0o7777) !== (ref.mode & 0o7777)) return false;
    if (obj && obj.size !== st.size) return false;
    return hashFile(path) === ref.sha256;
  }
}

/** fs.writeSync may write less than asked: returns how much it wrote. */
function writeAll(fd: number, data: Buffer, off: number): number {
  return writeSync(fd, data, off, data.length - off);
}
