/**
 * What `preInstall` handlers add to a pip run (API 1.2): variables for pip's environment, such as
 * the resolver's PIP_CONSTRAINT. Two plugins setting one name is an error naming both, as for the
 * activation: silently picking one would depend on hook timing.
 */
import type { Interfaces } from '@oclif/core';
import { fstatSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { InstallContribution, InstallEvent } from './contract.js';
import { BlastError } from '../cli/errors.js';
import { preloadEvents, runPhase, type PluginResult } from './events.js';
import type { TransactionHooks } from '../transaction/index.js';
import { pipCommand } from '../transaction/pip-args.js';
import { runPipCapture, type PipWrap } from '../transaction/pip-process.js';
import { wrapProcess } from './wrap.js';

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function mergeInstallEnv(
  results: ReadonlyArray<PluginResult<InstallContribution | void>>,
): Record<string, string> {
  const merged: Record<string, string> = {};
  const owner: Record<string, string> = {};
  for (const { plugin, result } of results) {
    for (const [name, value] of Object.entries(result?.env ?? {})) {
      if (!VARIABLE.test(name) || typeof value !== 'string' || value.includes('\0')) {
        throw new BlastError(`Plugin ${plugin} gave pip an invalid variable ${JSON.stringify(name)}.`);
      }
      if (name in merged)
        throw new BlastError(`Plugins ${owner[name]} and ${plugin} both set ${name} for pip.`);
      merged[name] = value;
      owner[name] = plugin;
    }
  }
  return merged;
}

/**
 * `--yes` is Blast's, not pip's, for install (pip install has no such option): it answers Blast's
 * and plugins' questions. Removed from the arguments pip sees. For every other command it stays:
 * pip uninstall's own `-y/--yes` also means yes. The subcommand is found by the one pip-argument
 * parser (transaction/pip-args.ts), so a general option's value (`--log x.log uninstall`) is not
 * taken for it.
 */
export function takeYes(args: readonly string[]): { args: string[]; yes: boolean } {
  const end = args.indexOf('--');
  const head = end === -1 ? args : args.slice(0, end);
  const command = pipCommand(args);
  if (command !== 'install')
    return {
      args: [...args],
      yes: command === 'uninstall' && (head.includes('-y') || head.includes('--yes')),
    };
  const yes = head.includes('--yes');
  if (!yes) return { args: [...args], yes: false };
  return { args: [...head.filter((a) => a !== '--yes'), ...(end === -1 ? [] : args.slice(end))], yes: true };
}

/**
 * Whether a question before pip can be seen and answered (InstallEvent.interactive), and why not.
 * The question is written to stderr and answered on stdin; pip's output goes to stdout and
 * stderr. All three must be the one terminal: with `pip install x 2>&1 | tee log` stdin is the
 * terminal but the question would go into the pipe, unseen, and the install would look hung.
 */
export function askability(
  yes: boolean,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Pick<InstallEvent, 'interactive' | 'notAsked'> {
  const no = (why: string) => ({ interactive: false, notAsked: why });
  if (yes) return no('you passed --yes');
  if (env.BLAST_YES === '1') return no('BLAST_YES=1 is set');
  const ahead = '; --yes says yes ahead';
  if (!isatty(0)) return no(`stdin is not a terminal, so no answer could be read${ahead}`);
  const outputs = [1, 2].filter((fd) => !isatty(fd)).map((fd) => (fd === 1 ? 'stdout' : 'stderr'));
  if (outputs.length > 0)
    return no(
      `pip's ${outputs.join(' and ')} ${outputs.length > 1 ? 'go' : 'goes'} to a pipe or a file, where a question would not be seen${ahead}`,
    );
  const [input, out, err] = [0, 1, 2].map((fd) => fstatSync(fd).rdev);
  if (out !== input || err !== input)
    return no(`the output goes to another terminal than the one answers are read from${ahead}`);
  return { interactive: true };
}

/**
 * The plugins' side of a pip transaction, for every command that runs one (`blast pip`,
 * `blast load --lock`): preInstall vetoes and adds to pip's environment, postInstall may fail it.
 */
export function pluginTransactionHooks(config: Interfaces.Config): TransactionHooks {
  const wrap: PipWrap = (event) => wrapProcess(config, event);
  // A plugin's own pip (the resolver's dry run, pip check) runs as the install does (API 1.6).
  const withPip = <T extends InstallEvent>(event: T): T => ({
    ...event,
    runPip: (args: readonly string[], env?: Readonly<Record<string, string | undefined>>) =>
      runPipCapture({ info: event.env, args, env: env ?? process.env, wrap }),
  });
  return {
    preInstall: async (event) =>
      mergeInstallEnv((await runPhase(config, 'preInstall', withPip(event), 'veto')).results),
    reviewInstall: async (event) => {
      await runPhase(config, 'reviewInstall', withPip(event), 'veto');
    },
    postInstall: async (event) => {
      await runPhase(config, 'postInstall', withPip(event), 'require');
    },
    prepare: () => preloadEvents(config, ['reviewInstall', 'postInstall']),
    wrap,
  };
}
