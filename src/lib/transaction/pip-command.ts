/**
 * `blast pip -- ARGS…`, what the pip shim runs for every pip typed in an active environment: a
 * read-only command runs pip as it is; any other runs in a transaction with the plugins' events.
 * The command only hands its argv here; the lean path of bin/run.js calls it too, without oclif
 * (every pip through Blast would otherwise pay oclif's start-up, as much as Node's own).
 */
import type { Interfaces } from '@oclif/core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { activeState } from '../shell/activation.js';
import { readEnvConfig, infoOf } from '../envs/config.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { EnvInfo } from '../plugin-host/contract.js';
import { askability, pluginTransactionHooks, takeYes } from '../plugin-host/install-contributions.js';
import { classifyPip, parsePip } from './pip-args.js';
import { runPip, runTransaction, type Timings } from './index.js';

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

/** BLAST_TIMING=1's line: where the time of one pip through Blast went. */
function timingLine(t: Timings, started: number): string {
  const ms = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
  return (
    `blast: timing startup=${ms(started)}ms total=${ms(performance.now())}ms snapshot=${ms(t.snapshot)}ms ` +
    `pip=${ms(t.pip)}ms review=${ms(t.review)}ms serve=${ms(t.serve)}ms after=${ms(t.after)}ms ` +
    `rollback=${ms(t.rollback)}ms record=${ms(t.record)}ms at: begun=${ms(t.at.begun)} ` +
    `pip-started=${ms(t.at.pipStarted)} planned=${ms(t.at.planned)} pip-exited=${ms(t.at.pipExited)}\n`
  );
}

/** Run pip's `args` (after `--`) in the active environment; resolves to the exit status. */
export async function pipThroughBlast(config: Interfaces.Config, args: readonly string[]): Promise<number> {
  // Node's start-up (and oclif's, where it ran) up to here: what every pip through Blast pays first.
  const started = performance.now();
  const info = await activeEnv(process.env);
  const kind = classifyPip(args);
  if (kind === 'read-only') return runPip(info.path, args);
  const { args: pipArgs, yes } = takeYes(args);
  const result = await runTransaction({
    envPath: info.path,
    event: { env: info, args: pipArgs, command: kind, pip: parsePip(pipArgs), ...askability(yes) },
    hooks: pluginTransactionHooks(config),
  });
  if (process.env.BLAST_TIMING) process.stderr.write(timingLine(result.timings, started));
  return result.exitCode;
}
