import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BlastCommand } from '../lib/cli/base-command.js';
import { activeState } from '../lib/shell/activation.js';
import { readEnvConfig, infoOf } from '../lib/envs/config.js';
import { BlastError, ExitCode } from '../lib/cli/errors.js';
import type { EnvInfo } from '../lib/plugin-host/contract.js';
import { askability, pluginTransactionHooks, takeYes } from '../lib/plugin-host/install-contributions.js';
import { classifyPip, parsePip, runPip, runTransaction } from '../lib/transaction/index.js';

/** The active environment: the shell state's, else a VIRTUAL_ENV that Blast made. */
async function activeEnv(env: NodeJS.ProcessEnv): Promise<EnvInfo> {
  const state = activeState(env);
  const path = state?.env.path ?? env.VIRTUAL_ENV;
  const config = path ? await readEnvConfig(path) : undefined;
  if (!path || !config) {
    throw new BlastError(
      path
        ? `${path} is not an environment Blast made, so pip cannot run in a Blast transaction there.`
        : 'No Blast environment is active, so there is no pip to run in a transaction.',
      ExitCode.notFound,
      'Start one with `blast start NAME`, or run `python -m pip` to use pip without Blast.',
    );
  }
  if (!existsSync(join(path, 'bin', 'python'))) {
    throw new BlastError(`${path} has no bin/python.`, ExitCode.notFound, 'See `blast check`.');
  }
  return infoOf(path, config);
}

export default class Pip extends BlastCommand {
  static override hidden = true;
  static override strict = false;
  static override summary =
    "Run the active environment's pip inside a transaction (what the pip shim calls).";
  static override description = `Everything after \`--\` goes to pip unchanged. Commands that may change the environment run between a snapshot and the preInstall/postInstall hooks: when pip fails, or a postInstall handler fails the transaction, the environment is put back exactly as it was. Read-only commands (list, show, freeze, --version, …) just run pip.`;

  static override examples = ['<%= config.bin %> pip -- install requests', '<%= config.bin %> pip -- list'];

  async run(): Promise<void> {
    const args = this.argv[0] === '--' ? this.argv.slice(1) : [...this.argv];
    const info = await activeEnv(process.env);
    const kind = classifyPip(args);
    if (kind === 'read-only') {
      const status = await runPip(info.path, args);
      if (status !== 0) this.exit(status);
      return;
    }
    const { args: pipArgs, yes } = takeYes(args);
    const event = {
      env: info,
      args: pipArgs,
      command: kind,
      pip: parsePip(pipArgs),
      ...askability(yes),
    };
    const result = await runTransaction({
      envPath: info.path,
      event,
      hooks: pluginTransactionHooks(this.config),
    });
    if (process.env.BLAST_TIMING) {
      const t = result.timings;
      const ms = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
      process.stderr.write(
        `blast: timing snapshot=${ms(t.snapshot)}ms pip=${ms(t.pip)}ms review=${ms(t.review)}ms serve=${ms(t.serve)}ms after=${ms(t.after)}ms rollback=${ms(t.rollback)}ms record=${ms(t.record)}ms\n`,
      );
    }
    if (result.exitCode !== 0) this.exit(result.exitCode);
  }
}
