/**
 * Writing and removing under an environment root without ever going through a symbolic link or
 * out of the root. A path relative to the root is only touched after every directory above it has
 * been seen with lstat to be a real directory (not a link, not a file): a user who replaced
 * `site-packages/acme` by a link to a checkout, or a crafted snapshot with a link entry and a file
 * "under" it, must never make Blast write into, or delete from, the link's target. The last
 * component itself may be a link: unlink and rename act on the link, never on what it points to.
 *
 * Every restore, rollback and removal in the store goes through one `InsideEnv` per operation;
 * directories found real are remembered for that operation (Blast itself never turns a directory
 * into a link: a link step over a directory is refused when it is planned).
 */
import { lstatSync, mkdirSync, readlinkSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import { safeRelPath } from './manifest.js';

export interface ParentProblem {
  /** The offending directory, relative to the root. */
  rel: string;
  abs: string;
  kind: 'link' | 'not-a-directory';
  /** The link's target, as readlink gives it. */
  target?: string;
}

/** Quote a path for the hint's `rm` line (POSIX shells). */
function shellWord(path: string): string {
  return /^[A-Za-z0-9_./+@:=-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The refusal for a path under a link (or a file) where a directory is expected. */
export function parentError(problem: ParentProblem, changed: 'nothing' | 'unknown'): BlastError {
  const tail = changed === 'nothing' ? ' Nothing was changed.' : '';
  if (problem.kind === 'link') {
    return new BlastError(
      `${problem.abs} is a symbolic link (to ${problem.target}) where the environment should have a directory; ` +
        `Blast never writes or removes files through a link, so it will not touch what the link points to.${tail}`,
      ExitCode.failure,
      `If the link is yours to drop, remove the link itself with \`rm ${shellWord(problem.abs)}\` ` +
        '(not `rm -r`, which would delete the files it points to), then run the command again.',
    );
  }
  return new BlastError(
    `${problem.abs} is not a directory, but the environment should have a directory there.${tail}`,
    ExitCode.failure,
    'Move it aside, then run the command again.',
  );
}

export class InsideEnv {
  /** Directories (relative) seen to be real directories during this operation. */
  private readonly real = new Set<string>();
  /**
   * Directories seen missing (so nothing is under them): a rollback links thousands of files into
   * directories that do not exist yet, and each would otherwise lstat the missing one again.
   * Forgotten when this operation creates one.
   */
  private readonly absent = new Set<string>();
  /**
   * Directories with a missing one above them (or themselves missing), as `missingAbove` found
   * them: asked once per directory, not once per file. Forgotten when this operation creates one.
   */
  private readonly underAbsent = new Set<string>();

  constructor(readonly root: string) {}

  /**
   * The first directory above `rel` that is a link or not a directory, if any. Missing directories
   * are no problem (nothing is below them; `mkdirs` creates them as real ones).
   */
  problem(rel: string): ParentProblem | undefined {
    if (!safeRelPath(rel)) {
      return { rel, abs: join(this.root, String(rel)), kind: 'not-a-directory' };
    }
    // A directory is only ever taken for real after every one above it was: one look settles
    // the thousands of files of a directory seen already.
    const slash = rel.lastIndexOf('/');
    if (slash === -1) return undefined;
    const parent = rel.slice(0, slash);
    if (this.real.has(parent) || this.underAbsent.has(parent)) return undefined;
    const parts = rel.split('/');
    let dir = '';
    for (let i = 0; i < parts.length - 1; i++) {
      dir = dir ? `${dir}/${parts[i]}` : parts[i]!;
      if (this.real.has(dir)) continue;
      if (this.absent.has(dir)) return undefined;
      const abs = join(this.root, dir);
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        this.absent.add(dir);
        return undefined; // missing: so is everything under it
      }
      if (st.isSymbolicLink()) {
        let target = '?';
        try {
          target = readlinkSync(abs);
        } catch {
          // gone meanwhile
        }
        return { rel: dir, abs, kind: 'link', target };
      }
      if (!st.isDirectory()) return { rel: dir, abs, kind: 'not-a-directory' };
      this.real.add(dir);
    }
    return undefined;
  }

  /** Whether `problem` saw a directory above `rel` missing: then `rel` is missing too, unread. */
  missingAbove(rel: string): boolean {
    const slash = rel.lastIndexOf('/');
    if (slash === -1) return false;
    const parent = rel.slice(0, slash);
    if (this.underAbsent.has(parent)) return true;
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1))
      if (this.absent.has(rel.slice(0, i))) {
        this.underAbsent.add(parent);
        return true;
      }
    return false;
  }

  /** `rel`'s absolute path, after checking every directory above it; throws the refusal otherwise. */
  check(rel: string, changed: 'nothing' | 'unknown' = 'unknown'): string {
    const problem = this.problem(rel);
    if (problem) throw parentError(problem, changed);
    return join(this.root, rel);
  }

  /** Create the directory `relDir` and the missing ones above it, each as a real directory. */
  mkdirs(relDir: string): void {
    if (relDir === '' || relDir === '.' || this.real.has(relDir)) return;
    const parts = relDir.split('/');
    let dir = '';
    for (const part of parts) {
      dir = dir ? `${dir}/${part}` : part;
      if (this.real.has(dir)) continue;
      const problem = this.problem(`${dir}/x`);
      if (problem) throw parentError(problem, 'unknown');
      // Seen just now to be a real directory already: a mkdir would only fail (EEXIST), and a
      // failing mkdir costs as much as one that creates (350 of them in a numpy rollback).
      if (this.real.has(dir)) continue;
      const abs = join(this.root, dir);
      this.absent.delete(dir);
      this.underAbsent.clear();
      try {
        mkdirSync(abs); // not recursive: each level is checked
        // Made just now by this operation, under real directories: a real one.
        this.real.add(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  }

  /** Remove the file or link `rel` (a missing one is fine). */
  unlink(rel: string): void {
    const abs = this.check(rel);
    try {
      unlinkSync(abs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  /** Remove the directory `rel` when it is a real, empty one; false when it was not removed. */
  rmdirIfEmpty(rel: string): boolean {
    if (this.problem(rel)) return false;
    const abs = join(this.root, rel);
    try {
      if (!lstatSync(abs).isDirectory()) return false;
      rmdirSync(abs); // ENOTEMPTY when it is not empty
      this.real.delete(rel);
      this.absent.add(rel);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether `rel` is a real directory with real directories above it. */
  isRealDir(rel: string): boolean {
    if (this.problem(`${rel}/x`)) return false;
    try {
      return lstatSync(join(this.root, rel)).isDirectory();
    } catch {
      return false;
    }
  }
}
