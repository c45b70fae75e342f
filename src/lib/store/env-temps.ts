/**
 * Temporary names a kill -9 leaves inside an environment: a restore makes each file or link under
 * `tempName` (`.tmp-<pid>-<tag>-<n>`, objects.ts) next to its destination and renames it into
 * place, so a process killed between leaves one in site-packages or bin. Nothing else would ever
 * remove it. Only names of exactly that pattern are touched, and only when their maker is gone:
 *
 * - its pid runs no process; or
 * - its pid is this process's but the tag is not this process's (the pid was reused by us); or
 * - the process with that pid started after the file was made (the pid was reused by another):
 *   Linux's /proc says when a process started, the file's ctime when it was made (a link or a
 *   rename since only makes the ctime later, which keeps the file: the safe side).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TEMP_TAG } from './objects.js';
import { alive } from '../fs/alive.js';

const TEMP = /^\.tmp-(\d+)-([0-9a-f]{8})-(\d+)$/;

let bootMs: number | undefined;

/** When the process started (ms since the epoch), from /proc; undefined where that cannot be read. */
function startedMs(pid: number): number | undefined {
  try {
    bootMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]) * 1000;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 22, starttime, in clock ticks since boot; Linux reports them at USER_HZ, 100 a second.
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) && Number.isFinite(bootMs) ? bootMs + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `file`, named `name`, is a temporary name of a Blast process that is gone. */
function stale(file: string, name: string): boolean {
  const m = name.startsWith('.tmp-') ? TEMP.exec(name) : null;
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return m[2] !== TEMP_TAG;
  if (!alive(pid)) return true;
  const started = startedMs(pid);
  if (started === undefined) return false;
  try {
    // Both clocks are coarse (btime: a second; ticks: 10 ms): a margin, on the keeping side.
    return started > lstatSync(file).ctimeMs + 2000;
  } catch {
    return false;
  }
}

function staleIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => stale(join(dir, n), n)).map((n) => join(dir, n));
}

function unlinkAll(paths: readonly string[]): void {
  for (const p of paths)
    try {
      unlinkSync(p);
    } catch {
      // gone meanwhile
    }
}

/** After recovering a restore: the directories its steps touched are where its maker could leave one. */
export function removeStaleTemps(root: string, steps: ReadonlyArray<{ path: string }>): void {
  const top = resolve(root);
  // Shorter first: a directory comes before what is under it.
  const dirs = [...new Set(steps.map((s) => dirname(join(top, s.path))))].sort((a, b) => a.length - b.length);
  // A rollback writes into hundreds of directories that do not exist yet: below a missing one,
  // nothing is read.
  const missing = new Set<string>();
  const underMissing = (dir: string) => {
    for (let d = dirname(dir); d.length > top.length; d = dirname(d)) if (missing.has(d)) return true;
    return false;
  };
  for (const dir of dirs) {
    if (underMissing(dir)) missing.add(dir);
    else if (!existsSync(dir)) missing.add(dir);
    else unlinkAll(staleIn(dir));
  }
}

/** Every stale temporary name anywhere in the environment (a walk: for `check` and `clean`). */
export function staleEnvTemps(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (stale(path, e.name)) out.push(path);
    }
  };
  walk(resolve(root));
  return out;
}

export { unlinkAll as removeEnvTemps };
