/**
 * `blast load --list`: an environment's snapshots, each with what its manifest says (a corrupt
 * one is a row that says so, never a failed listing).
 */
import type { EnvInfo } from '../plugin-host/contract.js';
import { listSnapshots, type ObjectStore, readManifest, recordCurrent } from '../store/index.js';
import { table } from '../cli/table.js';
import type { Env } from '../paths.js';

export interface SnapshotRow {
  name: string;
  createdAt: string;
  python: string;
  distributions: number;
  file: string;
  /** Why the snapshot cannot be read, when it cannot. */
  error?: string;
}

/** The snapshots' names only: for completion, at every TAB, so read-only and quick (no history read). */
export function snapshotNames(store: ObjectStore, envPath: string): string[] {
  return listSnapshots(store, envPath).map((s) => s.name);
}

/** The environment's snapshots, oldest first. A history read: an interrupted change is recovered and the current state recorded first. */
export function snapshotRows(info: EnvInfo, store: ObjectStore, env: Env): SnapshotRow[] {
  recordCurrent(info.path, { env, store, source: 'outside' });
  return listSnapshots(store, info.path).map((s) => {
    try {
      const m = readManifest(s.file);
      return {
        name: s.name,
        createdAt: m.createdAt,
        python: m.python,
        distributions: m.distributions.length,
        file: s.file,
      };
    } catch (error) {
      const row: SnapshotRow = { name: s.name, createdAt: '', python: '', distributions: 0, file: s.file };
      row.error = (error as Error).message;
      return row;
    }
  });
}

/** The listing as a user reads it. */
export function snapshotTable(rows: readonly SnapshotRow[], envName: string): string[] {
  const lines: string[] = [];
  if (rows.length === 0) lines.push(`${envName} has no snapshots yet. Take one with \`blast save\`.`);
  else
    lines.push(
      table(
        ['NAME', 'SAVED', 'PYTHON', 'DISTRIBUTIONS'],
        rows.map((r) =>
          r.error
            ? [r.name, 'corrupt', '-', '-']
            : [
                r.name,
                r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
                r.python,
                String(r.distributions),
              ],
        ),
      ),
    );
  lines.push('Revisions (every change, with what it changed): `blast history`.');
  return lines;
}
