/** What a lock file says, whichever format it came from. */

/** One archive a locked distribution may be installed from. */
export interface LockedArchive {
  kind: 'wheel' | 'sdist' | 'archive';
  /** The archive's file name (a wheel's carries its tags). */
  filename?: string;
  /** Where it is: a URL, or a path (relative to the lock file's directory, or absolute). */
  url?: string;
  path?: string;
  /** sha256, lower-case hex. */
  sha256: string;
  size?: number;
}

export interface LockedDist {
  name: string;
  version: string;
  /** A PEP 508 environment marker: the distribution is for environments where it is true. */
  marker?: string;
  /**
   * The archives it may come from. Empty `url`/`path` everywhere (a requirements file's
   * `name==version --hash=…`): pip finds it in the configured index, by these hashes.
   */
  archives: LockedArchive[];
  /** Installed from a URL rather than found in an index: written as `name @ url` in requirements. */
  direct?: boolean;
}

export type LockFormat = 'requirements' | 'pylock';

export interface Lock {
  format: LockFormat;
  file: string;
  distributions: LockedDist[];
  /** pylock.toml's requires-python. */
  requiresPython?: string;
  /** pylock.toml's environments (markers; the lock is for environments where one is true). */
  environments?: string[];
  /** Index options of a requirements file (`--index-url`, `--find-links`, …), kept for pip. */
  pipOptions: string[];
}

/** A distribution `blast save --lock` left out, and why. */
export interface SkippedDist {
  name: string;
  version: string;
  reason: string;
}
