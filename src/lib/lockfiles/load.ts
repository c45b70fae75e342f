/** `blast load --lock FILE` as a task list (a terminal) or plain `blast: …` lines (anything else). */
import { resolve } from 'node:path';
import type { EnvInfo } from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import { runTasks } from '../cli/tasks.js';
import type { TransactionHooks } from '../transaction/index.js';
import { applyLock, type LockResult, readLock } from './apply.js';
import type { Lock } from './types.js';

export interface LoadLockOptions {
  info: EnvInfo;
  hooks?: TransactionHooks;
  /** `--json`: no task list, plain lines only. */
  json?: boolean;
  env?: Env;
}

export interface LockLoaded extends LockResult {
  env: string;
  ms: number;
}

export async function loadLock(file: string, options: LoadLockOptions): Promise<LockLoaded> {
  const started = performance.now();
  const path = resolve(file);
  const ctx: { lock?: Lock; result?: LockResult } = {};
  await runTasks(
    [
      {
        title: `Reading ${path}`,
        run: (c) => {
          c.lock = readLock(path);
          return `Read ${c.lock.distributions.length} locked distributions from ${path}`;
        },
      },
      {
        title: `Making ${options.info.name} match the lock`,
        run: async (c, note) => {
          c.result = await applyLock(options.info.path, c.lock!, {
            info: options.info,
            hooks: options.hooks,
            env: options.env,
            note,
          });
          const r = c.result;
          return `${options.info.name} matches the lock (${r.kept.length} kept, ${r.relinked.length} re-linked, ${r.installed.length} through pip, ${r.removed.length} removed)`;
        },
      },
    ],
    ctx,
    { json: options.json, env: options.env },
  );
  return { ...ctx.result!, env: options.info.path, ms: Math.round(performance.now() - started) };
}

/** What the load changed, for people. */
export function lockReport(r: LockLoaded, envName: string): string[] {
  const changed = r.relinked.length + r.installed.length + r.removed.length;
  if (changed === 0) return [`${envName} already matches ${r.lock}.`];
  const lines = [`${envName} now matches ${r.lock} (${r.ms} ms):`];
  for (const d of r.relinked) lines.push(`  + ${d} (from the store, offline)`);
  for (const d of r.installed) lines.push(`  + ${d} (through pip, hash checked)`);
  for (const d of r.removed) lines.push(`  - ${d}`);
  if (r.kept.length) lines.push(`  ${r.kept.length} already as locked`);
  if (r.notForHere.length) lines.push(`  not for this environment (markers): ${r.notForHere.join(', ')}`);
  if (r.recordedAs !== undefined) lines.push(`Recorded as revision ${r.recordedAs} (see \`blast history\`).`);
  return lines;
}
