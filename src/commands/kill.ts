import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/base-command.js';
import { forcedKillChange, killChange, STATE_VARIABLE } from '../lib/activation.js';
import { readEnvConfig, infoOf } from '../lib/env-config.js';
import type { EnvInfo, KillEvent, ShellChange } from '../lib/contract.js';
import { runPhase } from '../lib/phases.js';
import { findShell } from '../lib/shells.js';
import { shellFunction, writeShellScript } from '../lib/shell-script.js';
import { BlastError, ExitCode, isBlastError } from '../lib/errors.js';
import { SUBSHELL_VARIABLE } from '../lib/subshell.js';
import { shellPid as shellPidOf } from '../lib/shell-pid.js';

export default class Kill extends BlastCommand {
  static override summary = 'Deactivate: restore the shell exactly as it was before `blast start`.';
  static override description = `Every variable Blast touched gets its previous value back (unset stays unset, empty stays empty), the prompt is restored, and plugins stop what they started (the daemon, for one).

--force goes on when a plugin objects or Blast's saved state is damaged.`;

  static override examples = ['<%= config.bin %> kill', '<%= config.bin %> kill --force'];

  static override flags = {
    force: Flags.boolean({
      char: 'f',
      description: 'go on even if a plugin objects or the saved state is unreadable',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Kill);
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
    const adapter = await findShell(this.config, through.shell);
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
      if (!flags.force || !isBlastError(error) || env[STATE_VARIABLE] === undefined) throw error;
      change = forcedKillChange(env);
      this.warn(
        "Blast's saved state was unreadable: dropped Blast's variables; other variables keep their current values.",
      );
    }

    const event: KillEvent | undefined = info ? { env: info, force: flags.force, shellPid } : undefined;
    if (event) await runPhase(this.config, 'preKill', event, flags.force ? 'inform' : 'veto');
    writeShellScript(through.script, adapter.render(change));
    if (event) await runPhase(this.config, 'postKill', event, 'inform');
    if (env[SUBSHELL_VARIABLE]) {
      process.stderr.write(
        'blast: deactivated; this is still the subshell `blast start` opened: `exit` leaves it.\n',
      );
    }
  }
}
