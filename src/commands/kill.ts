import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { killActivation } from '../lib/kill.js';

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
    await killActivation({ config: this.config, warn: (message) => this.warn(message) }, flags.force);
  }
}
