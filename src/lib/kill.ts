/**
 * `blast kill`: the shell function's script that puts the shell back as it was before the first
 * `blast start`, between plugins' preKill and postKill. The command only parses and calls this;
 * the lean path of bin/run.js calls it too, without oclif.
 */
import type { Interfaces } from '@oclif/core';
import { forcedKillChange, killChange, STATE_VARIABLE } from './shell/activation.js';
import { readEnvConfig, infoOf } from './envs/config.js';
import type { EnvInfo, KillEvent, ShellChange } from './plugin-host/contract.js';
import { runPhase } from './plugin-host/events.js';
import { findShell } from './shell/adapters.js';
import { shellFunction, writeShellScript } from './shell/script.js';
import { BlastError, ExitCode, isBlastError } from './cli/errors.js';
import { SUBSHELL_VARIABLE } from './shell/subshell.js';
import { shellPid as shellPidOf } from './shell/pid.js';

export async function killActivation(
  host: { config: Interfaces.Config; warn(message: string): void },
  force: boolean,
): Promise<void> {
  const env = process.env;
  const through = shellFunction(env);
  if (!through) {
    throw new BlastError(
      env[STATE_VARIABLE] === undefined
        ? 'No Blast environment is active in this shell.'
        : '`blast kill` needs the blast shell function to change this shell.',
      ExitCode.usage,
      'Run `blast init --install` to add it to your shell rc file; in a Blast subshell, `exit` leaves it.',
    );
  }
  const adapter = await findShell(host.config, through.shell);
  const shellPid = shellPidOf(env, through.shell);

  let change: ShellChange;
  let info: EnvInfo | undefined;
  try {
    const killed = killChange(env);
    change = killed.change;
    const config = await readEnvConfig(killed.state.env.path).catch(() => undefined);
    info = config
      ? infoOf(killed.state.env.path, config)
      : {
          ...killed.state.env,
          kind: 'named',
          python: { executable: '', version: '', implementation: '' },
          settings: {},
        };
  } catch (error) {
    if (!force || !isBlastError(error) || env[STATE_VARIABLE] === undefined) throw error;
    change = forcedKillChange(env);
    host.warn(
      "Blast's saved state was unreadable: dropped Blast's variables; other variables keep their current values.",
    );
  }

  const event: KillEvent | undefined = info ? { env: info, force, shellPid } : undefined;
  if (event) await runPhase(host.config, 'preKill', event, force ? 'inform' : 'veto');
  writeShellScript(through.script, adapter.render(change));
  if (event) await runPhase(host.config, 'postKill', event, 'inform');
  if (env[SUBSHELL_VARIABLE]) {
    process.stderr.write(
      'blast: deactivated; this is still the subshell `blast start` opened: `exit` leaves it.\n',
    );
  }
}
