import * as Args from '@oclif/core/args';
import { BlastCommand } from '../lib/cli/base-command.js';
import { autoAction } from '../lib/shell/auto.js';
import { BlastError, ExitCode } from '../lib/cli/errors.js';
import { shellFunction } from '../lib/shell/script.js';

export default class Auto extends BlastCommand {
  static override hidden = true;
  static override summary =
    'The prompt hook of `blast init SHELL --auto`: start, switch or kill for the project directory it found.';
  static override description = `Run by the hook when the project under $PWD changed (no argument or '': none). An environment started by hand is left alone; see \`blast init --help\`.`;

  static override examples = [
    '<%= config.bin %> auto "$PWD"   # what the hook runs when the project changed',
  ];

  static override args = {
    project: Args.string({ description: 'the project directory the hook found ("" for none)' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Auto);
    if (!shellFunction(process.env))
      throw new BlastError('`blast auto` is run by the shell function’s prompt hook.', ExitCode.usage);
    const action = autoAction(args.project, process.env);
    if (action.kind === 'kill') await this.config.runCommand('kill');
    if (action.kind === 'start')
      await this.config.runCommand('start', [...action.args, '--auto-project', action.project]);
  }
}
