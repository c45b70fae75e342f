import * as Args from '@oclif/core/args';
import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import type { TargetAnswer } from 'blast/contract';
import { existsSync } from 'node:fs';
import { analyseDryRun, analyseUninstall } from '../resolver/analyse.js';
import { pipConstraintValue, writeConstraints } from '../resolver/constraints.js';
import { isEmpty, risks, type Impact } from '../resolver/impact.js';
import { policyOf } from '../resolver/policy.js';
import { impactTable } from '../resolver/table.js';
import { failure, isFailure } from '../resolver/errors.js';
import { pythonOf } from '../resolver/pip.js';

export interface ImpactJson {
  env: { name: string; path: string };
  command: 'install' | 'uninstall';
  /** The pip arguments analysed. */
  args: string[];
  constraints: string[];
  impact: Impact;
  /** Downgrades, removals, major jumps, broken requirements: what `pip install` asks about on a terminal. */
  risks: string[];
}

export default class ImpactCommand extends Command {
  static override summary = 'Show what a pip install (or uninstall) would change, without changing anything.';
  static override description = `Asks pip's own resolver (\`pip install --dry-run --report\`, with the environment's constraints) and compares its plan with what is installed: distributions added, upgraded, downgraded and removed, major version jumps, and installed distributions whose requirements the change would break. This is the table \`pip install\` shows in an active Blast environment before it installs.

Everything after \`--\` goes to \`pip install\` as it is (options such as --no-index or -r FILE). The environment: --env NAME, --path DIR, else the active one.`;

  static override examples = [
    "<%= config.bin %> impact 'django>=5'",
    '<%= config.bin %> impact --env demo --json -- -U -r requirements.txt',
    '<%= config.bin %> impact --uninstall requests',
  ];

  static override strict = false;
  static override enableJsonFlag = true;
  static override args = {
    spec: Args.string({ description: 'requirements to analyse, as for pip install (PEP 508)' }),
  };

  static override flags = {
    // helpValue ENV: the core's completion model offers environment names for it.
    env: Flags.string({ description: 'a named environment (default: the active one)', helpValue: 'ENV' }),
    path: Flags.string({ description: 'the environment at this directory', helpValue: 'DIR' }),
    uninstall: Flags.boolean({ description: 'analyse `pip uninstall SPEC...` instead' }),
  };

  async run(): Promise<ImpactJson> {
    const { flags, argv } = await this.parse(ImpactCommand);
    const specs = argv as string[];
    if (specs.length === 0)
      throw failure(
        'Nothing to analyse.',
        2,
        `Give requirements, e.g. ${this.config.bin} impact 'requests>=2'.`,
      );
    const { env: target, ctx } = await this.target(flags);
    const policy = policyOf(target.settings);
    const env: NodeJS.ProcessEnv = { ...ctx.env };
    if (policy.constraints.length > 0) {
      writeConstraints(target.path, policy.constraints);
      env.PIP_CONSTRAINT = pipConstraintValue(target.path, ctx.env.PIP_CONSTRAINT);
    }
    const command = flags.uninstall ? 'uninstall' : 'install';
    const analysis =
      command === 'install'
        ? await analyseDryRun(target.path, target.python.version, specs, env)
        : await analyseUninstall(
            target.path,
            target.python.version,
            {
              command,
              requirements: specs,
              options: {},
              verbosity: 0,
            },
            ctx.cacheDir,
          );
    if (analysis.status === 'skipped') throw failure(`Nothing to analyse: ${analysis.why}.`, 2);
    if (analysis.status === 'failed')
      throw failure(
        `pip's resolver cannot plan this install: ${analysis.why}`,
        1,
        policy.constraints.length > 0
          ? `The environment's constraints: ${policy.constraints.join(', ')}.`
          : undefined,
      );
    const result: ImpactJson = {
      env: { name: target.name, path: target.path },
      command,
      args: specs,
      constraints: policy.constraints,
      impact: analysis.impact,
      risks: risks(analysis.impact),
    };
    if (!this.jsonEnabled()) {
      this.log(`Impact of pip ${command} ${specs.join(' ')} in ${target.name} (${target.path}):`);
      if (policy.constraints.length > 0) this.log(`  constraints: ${policy.constraints.join(', ')}`);
      for (const line of impactTable(analysis.impact)) this.log(line);
      if (!isEmpty(analysis.impact) && result.risks.length > 0)
        this.log(`Flagged: ${result.risks.join(', ')}.`);
    }
    return result;
  }

  /** The environment, found by the core's rules (the `target` event, API 1.5). */
  private async target(flags: { env?: string; path?: string }): Promise<TargetAnswer> {
    const { successes, failures } = await this.config.runHook('target', { env: flags.env, path: flags.path });
    // The core's own error (no such environment, none active): its message, hint and exit code.
    if (failures[0]) throw failures[0].error;
    const answer = successes.find((s) => s.result)?.result;
    if (!answer) throw failure('This Blast does not say which environment is meant (plugin API 1.5 needed).');
    if (!existsSync(pythonOf(answer.env.path)))
      throw failure(
        `${answer.env.path} is not a Python environment (no bin/python).`,
        3,
        'See `blast check`.',
      );
    return answer;
  }

  protected override async catch(error: Error & { exitCode?: number; hint?: string }): Promise<unknown> {
    // pip's options (`-U`, `-r FILE`) are not ours: say where they go instead of oclif's usage dump.
    const flag = /^Nonexistent flags?: (.+)$/m.exec(error.message);
    if (flag)
      return this.catch(
        failure(
          `${flag[1]!.split(/,\s*/)[0]} is not an option of blast impact.`,
          2,
          `pip's own options go after \`--\`: ${this.config.bin} impact -- ${flag[1]!.split(/,\s*/)[0]} …`,
        ),
      );
    if (!isFailure(error)) return super.catch(error);
    if (this.jsonEnabled()) {
      this.logJson({ error: { message: error.message, hint: error.hint, exitCode: error.exitCode } });
    } else {
      process.stderr.write(`blast: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    }
    return this.exit(error.exitCode);
  }
}
