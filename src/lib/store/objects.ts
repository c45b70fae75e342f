/**
 * The content-addressed object store: `<BLAST_HOME>/store/objects/<2 hex>/<sha256>-<mode>`. An
 * object is keyed by its content and its permission bits: hard links share one inode, so a file
 * that is 0755 and one that is 0644 with the same bytes are two objects, and linking an object
 * back gives the file exactly its mode. Objects arrive as the link mode says (link-mode.ts: a
 * clone, a hard link, or a verified copy; by hard link the environment's file and the object are
 * one inode, its mode and mtime untouched: taking a snapshot changes nothing in the environment),
 * always under a temporary name renamed into place, so a crash never leaves a half object.
 *
 * Nothing here writes into an object once it is in place, and pip replaces files by unlinking
 * them first. But a hard-linked object is also the environment's file, and a write *into* that
 * file (`>>`, an editor saving in place) changes the object under every snapshot that has it.
 * So every object is sealed: a manifest entry records the object's size and mtime as they were
 * when it was stored (`Seal`), and the object is checked against its seal before it is trusted
 * (restored, reused by a snapshot, or taken as "already stored"). A write changes the mtime and
 * usually the size. The ctime is not part of the seal although a write moves it too: linking
 * and unlinking move it as well (nlink), so every snapshot and every pip uninstall would move a
 * ctime seal and send restores re-hashing; rollback must stay a re-link. An object whose seal
 * moved is re-hashed; when its bytes no longer hash to its name it is damaged: moved aside to
 * `<store>/quarantine/` (kept, never restored), and the restore that needed it refuses before
 * changing anything. Bytes changed while keeping size and mtime (a deliberate `touch -d` after
 * the write) pass the seal: `blast check --deep` re-hashes every object.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import { blastHome, type Env } from '../paths.js';
import { crashPoint } from './crash.js';
import { alive } from '../fs/alive.js';
import { keepTimes, linkMakingDir, NO_CLONE, NO_LINK } from '../fs/link.js';
import { type LinkMode, linkModeOf } from './link-mode.js';

/** `<BLAST_HOME>/store`. */
export function storeDir(env: Env = process.env): string {
  return join(blastHome(env), 'store');
}

export interface ObjectRef {
  sha256: string;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
}

/**
 * What an object was when it was stored: its size and mtime (ms, as fs.Stats has it). Kept in
 * every manifest entry beside its hash, so a restore checks it with the stat it makes anyway.
 */
export interface Seal {
  size: number;
  mtimeMs: number;
}

/** What is known of an object's seal: a manifest entry has its size, and its mtime since seals. */
export interface SealHint {
  size?: number;
  mtimeMs?: number;
}

export type Verified =
  | { state: 'ok'; seal: Seal }
  | { state: 'missing' }
  /** Its bytes no longer hash to its name: moved to `quarantined`. */
  | { state: 'damaged'; quarantined?: string };

const HEX64 = /^[0-9a-f]{64}$/;
/** SHA-256 of no bytes. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function keyOf(ref: ObjectRef): string {
  return `${ref.sha256}-${(ref.mode & 0o7777).toString(8)}`;
}

/** The object a store file name `<sha256>-<octal mode>` names, or undefined. */
export function refOfKey(key: string): ObjectRef | undefined {
  const m = /^([0-9a-f]{64})-([0-7]{1,4})$/.exec(key);
  return m ? { sha256: m[1]!, mode: parseInt(m[2]!, 8) } : undefined;
}

export function sealOf(st: Stats): Seal {
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** This process's tag in tempName: a pid reused by another process does not make its names ours. */
export const TEMP_TAG = randomBytes(4).toString('hex');
let tempCount = 0;

/** `.tmp-<pid>-<random>-<n>` in `dir`: unique, and its pid tells whether its maker still runs. */
export function tempName(dir: string): string {
  return join(dir, `.tmp-${process.pid}-${TEMP_TAG}-${++tempCount}`);
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

/**
 * `write`, which creates `path`; its directory is made only when it is missing (a mkdir that
 * finds the directory there fails, and costs as much as one that creates it).
 */
function inDir(path: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(path), { recursive: true });
    write();
  }
}

const sameInode = (a: Stats, b: Stats) => a.ino === b.ino && a.dev === b.dev;
/** A stat's identity for "checked already in this process": any write or re-make changes it. */
const identity = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}`;

export class ObjectStore {
  readonly objects: string;
  readonly quarantine: string;
  /**
   * Whether clones work here; learnt from the first attempt and kept for this store object (one
   * process: one store, and nearly always one environment's file system).
   */
  private clones: boolean | undefined;
  /** Objects re-hashed in this process, by key: the stat they had (a seal that moved costs one hash). */
  private readonly hashed = new Map<string, string>();

  constructor(
    readonly root: string,
    readonly linkMode: LinkMode = 'auto',
  ) {
    this.objects = join(root, 'objects');
    this.quarantine = join(root, 'quarantine');
  }

  /** Whether files materialized now are hard links to the objects (hardlink, or auto where clones fail). */
  sharesInodes(): boolean {
    if (this.linkMode === 'auto' && this.clones === undefined) this.clones = this.probeClone();
    return this.linkMode === 'hardlink' || (this.linkMode === 'auto' && this.clones === false);
  }

  /** The store of BLAST_HOME, in the link mode BLAST_LINK_MODE asks for. */
  static of(env: Env = process.env): ObjectStore {
    return new ObjectStore(storeDir(env), linkModeOf(env));
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
   * Whether the object is still what its name says, checked against what is known of its seal:
   * the same size, mtime and mode is trusted without reading it; anything else (a seal that moved,
   * or none known) is re-hashed once per process. Damaged bytes are quarantined (so nothing uses
   * them again); right bytes with the wrong mode (a chmod of a hard-linked file) are stored again
   * as a copy with the right mode, the chmod'ed file keeping its own.
   */
  verify(ref: ObjectRef, hint: SealHint = {}, known?: Stats): Verified {
    const path = this.pathOf(ref);
    let st = known;
    if (!st) {
      try {
        st = statSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
        throw error;
      }
    }
    const mode = ref.mode & 0o7777;
    if (st.isFile() && (st.mode & 0o7777) === mode) {
      if (hint.mtimeMs !== undefined && st.size === hint.size && st.mtimeMs === hint.mtimeMs)
        return { state: 'ok', seal: sealOf(st) };
      if (this.hashed.get(keyOf(ref)) === identity(st)) return { state: 'ok', seal: sealOf(st) };
    }
    const intact =
      st.isFile() && (hint.size === undefined || st.size === hint.size) && hashFile(path) === ref.sha256;
    if (!intact) return { state: 'damaged', quarantined: this.quarantineObject(ref) };
    if ((st.mode & 0o7777) !== mode) st = this.remake(ref, path);
    this.hashed.set(keyOf(ref), identity(st));
    return { state: 'ok', seal: sealOf(st) };
  }

  /** Store the object again from its own (verified) bytes as a copy with its mode; its stats. */
  private remake(ref: ObjectRef, path: string): Stats {
    const temp = tempName(dirname(path));
    try {
      this.copyVerified(path, temp, ref.sha256, ref.mode & 0o7777);
      renameSync(temp, path);
    } catch (error) {
      rmQuiet(temp);
      throw error;
    }
    return statSync(path);
  }

  /**
   * Move a damaged object aside, to `<store>/quarantine/<key>-<time>`: never deleted (it may be
   * the only copy of someone's edit), never restored. Returns where it went.
   */
  quarantineObject(ref: ObjectRef): string | undefined {
    const to = join(this.quarantine, `${keyOf(ref)}-${Date.now()}-${process.pid}`);
    mkdirSync(this.quarantine, { recursive: true });
    try {
      renameSync(this.pathOf(ref), to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // moved already
      throw error;
    }
    this.hashed.delete(keyOf(ref));
    return to;
  }

  /** Whether a damaged copy of the object was quarantined (why a store lacks it). */
  wasQuarantined(ref: ObjectRef): boolean {
    const key = `${keyOf(ref)}-`;
    try {
      return readdirSync(this.quarantine).some((n) => n.startsWith(key));
    } catch {
      return false;
    }
  }

  /**
   * Store the file at `src`, whose content hashes to `ref.sha256` (the caller just hashed it) and
   * whose permission bits are `ref.mode`, as the link mode says. Returns whether the object was new.
   */
  put(src: string, ref: ObjectRef, hint?: SealHint): boolean {
    return this.store(src, ref, hint).added;
  }

  /**
   * put, returning the object's seal too. An object the store has already is taken only when it
   * is intact (checked against `hint`, what a previous manifest knew of it, else re-hashed): a
   * damaged one is quarantined and `src` stored in its place.
   */
  store(src: string, ref: ObjectRef, hint?: SealHint): { added: boolean; seal: Seal } {
    const dest = this.pathOf(ref);
    const obj = this.statOf(ref);
    if (obj) {
      // `src` is the object's own inode and was just hashed: the object is intact.
      const st = lstatSync(src);
      if (sameInode(st, obj) && (obj.mode & 0o7777) === (ref.mode & 0o7777))
        return { added: false, seal: sealOf(obj) };
      const checked = this.verify(ref, hint ?? { size: st.size }, obj);
      if (checked.state === 'ok') return { added: false, seal: checked.seal };
    }
    const temp = tempName(dirname(dest));
    const mode = ref.mode & 0o7777;
    try {
      this.transfer(src, temp, mode, ref.sha256, true);
      crashPoint('store-object-temp');
      renameSync(temp, dest);
    } catch (error) {
      rmQuiet(temp);
      throw error;
    }
    return { added: true, seal: sealOf(statSync(dest)) };
  }

  /**
   * Store bytes held in memory (a regenerated script or RECORD, a file unpacked from a pulled
   * layer) as the object `ref`: nothing is written when the store has it intact already; else
   * through a temporary file beside the objects, which `store` links or renames in.
   */
  storeBytes(ref: ObjectRef, data: Buffer): { added: boolean; seal: Seal } {
    const obj = this.statOf(ref);
    if (obj) {
      const checked = this.verify(ref, { size: data.length }, obj);
      if (checked.state === 'ok') return { added: false, seal: checked.seal };
    }
    mkdirSync(this.objects, { recursive: true });
    const temp = tempName(this.objects);
    const fd = openSync(temp, 'wx', ref.mode & 0o7777);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    } finally {
      closeSync(fd);
    }
    try {
      return this.store(temp, ref, { size: data.length });
    } finally {
      rmQuiet(temp); // linked or renamed away already, or left by a failure
    }
  }

  /**
   * Make `temp` (absent) a file with `src`'s bytes (which hash to `sha256`) and `mode`, as the link
   * mode says; a copy is checked against the hash when `verifyCopy` (storing: `src` may have
   * changed since it was hashed).
   *
   * The empty file is never linked, in any mode: it is the most shared object of all (every empty
   * `__init__.py` of every environment), a new empty file costs what a link costs, and so an
   * `echo x >>` into one reaches nothing else.
   */
  private transfer(src: string, temp: string, mode: number, sha256: string, verifyCopy: boolean): void {
    if (sha256 === EMPTY_SHA256) {
      inDir(temp, () => closeSync(openSync(temp, 'wx', mode)));
      keepTimes(src, temp, mode);
      return;
    }
    if (this.linkMode !== 'hardlink' && this.linkMode !== 'copy' && this.clones !== false) {
      try {
        this.cloneFile(src, temp, mode);
        this.clones = true;
        return;
      } catch (error) {
        if (!NO_CLONE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        rmQuiet(temp);
        this.clones = false;
      }
    }
    if (this.linkMode === 'hardlink' || this.linkMode === 'auto') {
      try {
        linkMakingDir(src, temp);
        if ((lstatSync(temp).mode & 0o7777) !== mode) chmodSync(temp, mode); // changed since it was hashed
        return;
      } catch (error) {
        if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      }
    }
    if (verifyCopy) inDir(temp, () => this.copyVerified(src, temp, sha256, mode));
    else {
      inDir(temp, () => copyFileSync(src, temp, constants.COPYFILE_EXCL));
      keepTimes(src, temp, mode);
    }
  }

  /** A copy-on-write clone (FICLONE), with the source's mtime and `mode`; throws where impossible. */
  private cloneFile(src: string, temp: string, mode: number): void {
    try {
      copyFileSync(src, temp, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(src)) throw error;
      mkdirSync(dirname(temp), { recursive: true });
      copyFileSync(src, temp, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    }
    keepTimes(src, temp, mode);
  }

  /**
   * Whether this store's file system clones (tried with an empty file in the store), for `blast
   * check`: what `auto` and `clone` really do here. Undefined before the store exists.
   */
  probeClone(): boolean | undefined {
    const dir = [this.objects, this.root].find((d) => existsSync(d));
    if (!dir) return undefined;
    const a = tempName(dir);
    const b = tempName(dir);
    try {
      closeSync(openSync(a, 'wx', 0o600));
      copyFileSync(a, b, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
      return true;
    } catch (error) {
      if (NO_CLONE.has((error as NodeJS.ErrnoException).code ?? '')) return false;
      return undefined;
    } finally {
      rmQuiet(a);
      rmQuiet(b);
    }
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
    keepTimes(src, temp, mode);
  }

  /**
   * Make `dest` the object `ref`, as the link mode says. A hard link where `dest` is absent is
   * made in place (one atomic step); anything else under a temporary name in the same directory,
   * renamed over whatever `dest` was. The caller has verified the object (planRestore).
   */
  materialize(ref: ObjectRef, dest: string): void {
    const src = this.pathOf(ref);
    if (this.sharesInodes() && ref.sha256 !== EMPTY_SHA256) {
      try {
        linkMakingDir(src, dest);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'EEXIST' && !NO_LINK.has(code ?? '')) throw error;
      }
    }
    if (!existsSync(src)) {
      throw new BlastError(
        `The store lacks the object for ${dest} (${keyOf(ref)}).`,
        ExitCode.failure,
        'The snapshot cannot be restored from this store.',
      );
    }
    // The caller made the directory, through the guard (restore.ts's apply): not made again here.
    const temp = tempName(dirname(dest));
    try {
      this.transfer(src, temp, ref.mode & 0o7777, ref.sha256, false);
      crashPoint('restore-temp-linked');
      renameSync(temp, dest);
    } catch (error) {
      rmQuiet(temp);
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
        if (!dryRun) rmQuiet(path);
      }
    }
    return out;
  }

  /**
   * Whether the file at `path` is exactly the object `ref`: the same inode as an intact object
   * (checked against `hint`, its seal: a file written in place is the object's inode, but no
   * longer its bytes), or equal bytes and mode.
   */
  holds(path: string, ref: ObjectRef, hint: SealHint = {}): boolean {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      return false;
    }
    if (!st.isFile()) return false;
    const obj = this.statOf(ref);
    // The object's own inode: it holds the object while that is intact, and has its mode (a chmod
    // of a hard-linked file changed both; verify stores the object again with its own).
    if (obj && sameInode(obj, st))
      return this.verify(ref, hint, obj).state === 'ok' && (st.mode & 0o7777) === (ref.mode & 0o7777);
    if ((st.mode & 0o7777) !== (ref.mode & 0o7777)) return false;
    const size = hint.size ?? obj?.size;
    if (size !== undefined && size !== st.size) return false;
    return hashFile(path) === ref.sha256;
  }
}

/** Give `dest` the mtime (and atime) of `src`, and `mode`. */
function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** fs.writeSync may write less than asked: returns how much it wrote. */
function writeAll(fd: number, data: Buffer, off: number): number {
  return writeSync(fd, data, off, data.length - off);
}
