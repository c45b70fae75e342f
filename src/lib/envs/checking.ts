/**
 * `blast check`: the core's checks (and, with --deep, the store's re-hash), then every plugin's,
 * through the runner clean shares (actions.ts); with --fix, each failing or warning check's
 * repair run in turn.
 */
import type { Interfaces } from '@oclif/core';
import { gatherItems, runItems } from '../plugin-host/actions.js';
import { coreChecks, deepChecks } from './checks.js';
import type { CheckResult } from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import type { DeepReport } from '../store/index.js';
import { table } from '../cli/table.js';

/** A check as `blast check --json` reports it: who made it, and how its repair went. */
export type ReportedCheck = Omit<CheckResult, 'repair'> & {
  source: string;
  repaired?: boolean;
  repairError?: string;
};

export interface CheckReport {
  /** No check fails (or every failing one was repaired). */
  ok: boolean;
  checks: ReportedCheck[];
  deep?: DeepReport;
}

export async function runChecks(
  config: Interfaces.Config,
  env: Env,
  options: { fix?: boolean; deep?: boolean; name?: string },
): Promise<CheckReport> {
  const core = await coreChecks(env, options.name);
  const deep = options.deep ? deepChecks(env, core.envs) : undefined;
  // A plugin whose check handler failed is a failing check of its own.
  const all = await gatherItems(
    config,
    'check',
    { envs: core.envs, named: options.name !== undefined },
    [...core.results, ...(deep?.results ?? [])],
    (f) => ({
      name: 'plugin check',
      status: 'fail',
      message: f.message,
    }),
  );
  const acted = await runItems(
    all,
    (check) => (check.repair && check.status !== 'ok' ? check.repair : undefined),
    !options.fix,
  );
  const checks = acted.map(({ source, item, ran, error }): ReportedCheck => {
    const { repair: _repair, ...rest } = item;
    return {
      ...rest,
      source,
      ...(ran ? { repaired: error === undefined } : {}),
      ...(error !== undefined ? { repairError: error } : {}),
    };
  });
  const ok = checks.every((c) => c.status !== 'fail' || c.repaired === true);
  return { ok, checks, ...(deep ? { deep: deep.report } : {}) };
}

/** The checks as a user reads them. */
export function checkTable(checks: readonly ReportedCheck[]): string {
  return table(
    ['STATUS', 'CHECK', 'ENV', 'DETAIL'],
    checks.map((c) => [
      c.repaired ? 'fixed' : c.status,
      c.name,
      c.env ?? '',
      c.message +
        (c.fix && !c.repaired ? ` (--fix: ${c.fix})` : '') +
        (c.repairError ? ` (repair failed: ${c.repairError})` : ''),
    ]),
  );
}
