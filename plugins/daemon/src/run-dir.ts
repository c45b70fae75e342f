/**
 * The runtime dir holds the daemons' sockets and pid files: whoever controls it can answer in a
 * daemon's place. Without XDG_RUNTIME_DIR it is `$TMPDIR/blast-<uid>`, a name in a directory every
 * user may write, so another user can create it first: as a symbolic link to a directory of
 * theirs, or as a directory they own or leave open. Blast uses it only when it is a real directory
 * (lstat, never following a link), owned by this user, closed to everyone else; otherwise it
 * refuses and says why and what to do.
 */
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';

export class RunDirError extends Error {}

/** Why `dir` must not be used as the runtime dir, with the way out; undefined when it is fine. */
export function runDirProblem(dir: string): string | undefined {
  let st;
  try {
    st = lstatSync(dir);
  } catch (error) {
    return `the runtime dir ${dir} cannot be read (${(error as Error).message}); set XDG_RUNTIME_DIR to a directory only you can enter`;
  }
  const fix = `set XDG_RUNTIME_DIR to a directory only you can enter (mkdir -m 700 ~/.blast-run; export XDG_RUNTIME_DIR=~/.blast-run), or remove ${dir} if it is yours`;
  if (st.isSymbolicLink()) {
    let to = '';
    try {
      to = ` to ${readlinkSync(dir)}`;
    } catch {
      // gone meanwhile: the message is still true
    }
    return `the runtime dir ${dir} is a symbolic link${to}, which another user may have planted to receive Blast's sockets; Blast does not follow it. ${fix}`;
  }
  if (!st.isDirectory()) return `the runtime dir ${dir} exists and is not a directory. ${fix}`;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    return `the runtime dir ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): that user could answer in place of your daemons. ${fix}`;
  if ((st.mode & 0o077) !== 0)
    return `the runtime dir ${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}), who could replace your daemons' sockets. Close it with chmod 700 ${dir}, or ${fix}`;
  return undefined;
}

/** Create the runtime dir (0700) when missing, and refuse it when it cannot be trusted. */
export function ensureRunDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    // Something is in the way (a dangling link, a file): runDirProblem says what.
  }
  const problem = runDirProblem(dir);
  if (problem) throw new RunDirError(problem);
}
