import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/base-command.js';
import { coreChecks, deepChecks } from '../lib/checks.js';
import { ExitCode, messageOf } from '../lib/errors.js';
import type { CheckResult } from '../lib/hooks.js';
import type { DeepReport } from '../lib/store/index.js';
import { runPhase } from '../lib/phases.js';
import { table } from '../lib/table.js';

type Reported = Omit<CheckResult, 'repair'> & { source: string; repaired?: boolean; repairError?: string };

export default class Check extends BlastCommand {
  static override summary = "Doctor: check Blast's state and every environment; --fix repairs what it can.";
  static override description = `Exits non-zero when a check fails. Plugins add their own checks.

With --deep, every object in Blast's store is re-hashed too, and every snapshot and revision that can no longer be restored exactly (an object damaged, e.g. written in place through a hard link, or gone) is named; --fix then moves damaged objects aside (<store>/quarantine), where nothing restores them.`;
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> check',
    '<%= config.bin %> check api',
    '<%= config.bin %> check --fix',
    '<%= config.bin %> check --json',
    '<%= config.bin %> check --deep',
  ];
  static override args = {
    name: Args.string({
      description: 'check only this environment (and Blast itself), as thoroughly as plugins can',
    }),
  };
  static override flags = {
    fix: Flags.boolean({ description: 'repair what can be repaired' }),
    deep: Flags.boolean({
      description: "also re-hash every object in the store and name the snapshots it can't restore exactly",
    }),
  };

  async run(): Promise<{ ok: boolean; checks: Reported[]; deep?: DeepReport }> {
    const { args, flags } = await this.parse(Check);
    const core = await coreChecks(process.env, args.name);
    const all: Array<{ source: string; check: CheckResult }> = core.results.map((check) => ({
      source: 'blast',
      check,
    }));
    const deep = flags.deep ? deepChecks(process.env, core.envs) : undefined;
    for (const check of deep?.results ?? []) all.push({ source: 'blast', check });
    const { results, failures } = await runPhase(
      this.config,
      'check',
      { envs: core.envs, named: args.name !== undefined },
      'inform',
      () => {},
    );
    for (const { plugin, result } of results)
      for (const check of result ?? []) all.push({ source: plugin, check });
    for (const f of failures)
      all.push({ source: f.plugin, check: { name: 'plugin check', status: 'fail', message: f.message } });

    const reported: Reported[] = [];
    for (const { source, check } of all) {
      const { repair, ...rest } = check;
      const entry: Reported = { ...rest, source };
      if (flags.fix && repair && check.status !== 'ok') {
        try {
          await repair();
          entry.repaired = true;
        } catch (error) {
          entry.repaired = false;
          entry.repairError = messageOf(error);
        }
      }
      reported.push(entry);
    }
    const ok = reported.every((c) => c.status !== 'fail' || c.repaired === true);
    if (!this.jsonEnabled()) {
      const mark = (c: Reported) => (c.repaired ? 'fixed' : c.status);
      this.log(
        table(
          ['STATUS', 'CHECK', 'ENV', 'DETAIL'],
          reported.map((c) => [
            mark(c),
            c.name,
            c.env ?? '',
            c.message +
              (c.fix && !c.repaired ? ` (--fix: ${c.fix})` : '') +
              (c.repairError ? ` (repair failed: ${c.repairError})` : ''),
          ]),
        ),
      );
    }
    if (!ok) process.exitCode = ExitCode.checkFailed;
    return { ok, checks: reported, ...(deep ? { deep: deep.report } : {}) };
  }
}
