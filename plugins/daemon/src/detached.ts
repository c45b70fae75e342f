/**
 * When a shell left an environment (`blast kill`, or a switch to another one): `detached/<pid>` in
 * the environment's state dir holds the time, in ms. A detach sent over the socket reaches only a
 * daemon that listens; one that is still starting (spawned by a `blast start` a moment ago, its
 * socket not bound yet), hung or dead would miss it, and then attach the shell anyway — from its
 * `--attach` arguments, from attached.json, or through `check --fix`. So the CLI writes this first,
 * and every attach "as of time T" (the CLI's spawn, a losing daemon's hand-over, attached.json's
 * last write) is dropped when the shell left at T or later. A later `blast start` attaches as of a
 * later time, so an old mark never drops it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { living } from './client.js';
import type { EnvPlaces as DaemonPaths } from './places.js';

/** Marks older than this are pruned: no attach is that long in flight. */
const KEEP_MS = 24 * 3600_000;

/** Records that `pid` left the environment now. */
export function markDetached(paths: Pick<DaemonPaths, 'detached'>, pid: number): void {
  mkdirSync(paths.detached, { recursive: true, mode: 0o700 });
  const file = join(paths.detached, String(pid));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, String(Date.now()), { mode: 0o600 });
  renameSync(tmp, file);
  try {
    for (const name of readdirSync(paths.detached)) {
      const other = join(paths.detached, name);
      if (Date.now() - statSync(other).mtimeMs > KEEP_MS) rmSync(other, { force: true });
    }
  } catch {
    // pruning is best effort
  }
}

/** When `pid` last left the environment, if it did. */
export function detachedAt(paths: Pick<DaemonPaths, 'detached'>, pid: number): number | undefined {
  try {
    const at = Number(readFileSync(join(paths.detached, String(pid)), 'utf8'));
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

/** Did `pid` leave the environment at `since` or later? */
export function leftSince(paths: Pick<DaemonPaths, 'detached'>, pid: number, since: number): boolean {
  const at = detachedAt(paths, pid);
  return at !== undefined && at >= since;
}

/**
 * Can `pid` be attached as of `since`: a living process that is not pid 1 (init is never a
 * shell; a CLI whose shell died was re-parented to it) and did not leave the environment since?
 */
export function attachable(paths: Pick<DaemonPaths, 'detached'>, pid: number, since: number): boolean {
  return Number.isInteger(pid) && pid > 1 && living(pid) && !leftSince(paths, pid, since);
}

/**
 * attached.json, which the daemon keeps: each attached shell with the time it was attached as of,
 * `[{"pid": 123, "since": 1700000000000}]` (a bare pid, as older daemons wrote, counts as of the
 * file's last write). Per shell, so that rewriting the file for one shell does not make another's
 * older attachment look newer than its `blast kill`.
 */
export function readAttached(paths: Pick<DaemonPaths, 'attached'>): Map<number, number> {
  const out = new Map<number, number>();
  let entries: unknown;
  let written: number;
  try {
    entries = JSON.parse(readFileSync(paths.attached, 'utf8'));
    written = statSync(paths.attached).mtimeMs;
  } catch {
    return out;
  }
  if (!Array.isArray(entries)) return out;
  for (const entry of entries) {
    const { pid, since } =
      typeof entry === 'number'
        ? { pid: entry, since: written }
        : ((entry ?? {}) as { pid?: unknown; since?: unknown });
    if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0)
      out.set(pid, typeof since === 'number' && Number.isFinite(since) ? since : written);
  }
  return out;
}

/** Writes attached.json atomically. */
export function writeAttached(
  paths: Pick<DaemonPaths, 'attached'>,
  shells: ReadonlyMap<number, number>,
): void {
  const tmp = `${paths.attached}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify([...shells].map(([pid, since]) => ({ pid, since }))), { mode: 0o600 });
  renameSync(tmp, paths.attached);
}

/**
 * The shells in attached.json that are still in the environment: alive, not pid 1, and not gone
 * from it since they were attached (a `blast kill` the daemon did not hear). With their times.
 */
export function recordedShells(paths: Pick<DaemonPaths, 'attached' | 'detached'>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [pid, since] of readAttached(paths)) if (attachable(paths, pid, since)) out.set(pid, since);
  return out;
}
