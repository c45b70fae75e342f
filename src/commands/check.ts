import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { type CheckReport, checkTable, runChecks } from '../lib/envs/checking.js';
import { ExitCode } from '../lib/cli/errors.js';

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

  async run(): Promise<CheckReport> {
    const { args, flags } = await this.parse(Check);
    const report = await runChecks(this.config, process.env, {
      fix: flags.fix,
      deep: flags.deep,
      name: args.name,
    });
    if (!this.jsonEnabled()) this.log(checkTable(report.checks));
    if (!report.ok) process.exitCode = ExitCode.checkFailed;
    return report;
  }
}
