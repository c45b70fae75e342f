import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import {
  collectSettingSpecs,
  settingFlags,
  unknownFlags,
  RESERVED_SETTING_NAMES,
} from '../lib/plugin-host/settings.js';
import { givenSettings, startEnvironment } from '../lib/start.js';

export default class Start extends BlastCommand {
  static override summary = 'Create an environment if needed and activate it in this shell.';
  static override description = `Named environments live under BLAST_HOME (default ~/.local/share/blast/envs); --path makes a project-local one. With neither, the project's environment is used: the nearest directory from here up (to your home) with a .blast-env (naming a named environment; --here writes it) or a .venv; with no project, ./.venv (created if missing). A venv made by python -m venv, virtualenv, uv or poetry is taken in as it is.

Through the \`blast\` shell function (see \`blast init\`) the current shell is activated; without it, an activated subshell opens, and \`exit\` leaves it. Starting another environment while one is active switches to it; \`blast kill\` restores the shell as it was before the first start.`;

  static override examples = [
    '<%= config.bin %> start demo',
    '<%= config.bin %> start api --python 3.12',
    "<%= config.bin %> start tools --python '>=3.10,<3.13'",
    '<%= config.bin %> start --path .venv --env DJANGO_SETTINGS_MODULE=site.settings',
    '<%= config.bin %> start web --unset-env DJANGO_DEBUG',
    '<%= config.bin %> start api --here',
  ];

  static override args = {
    name: Args.string({
      description: 'environment name (default: the project .venv in the current directory)',
    }),
  };

  static override flags = {
    python: Flags.string({
      char: 'p',
      description:
        'interpreter for a new environment: a path, 3.12, 3.12.1, a PEP 440 spec like >=3.10,<3.13, or python3.11',
    }),
    path: Flags.string({ description: 'project-local environment directory' }),
    env: Flags.string({
      char: 'e',
      description: 'variable to export while active, NAME=VALUE (repeatable; stored with the environment)',
      multiple: true,
    }),
    'unset-env': Flags.string({
      description: 'stop exporting a variable stored with --env (repeatable)',
      multiple: true,
    }),
    here: Flags.boolean({
      description: "write ./.blast-env naming this environment: the project's environment",
    }),
    force: Flags.boolean({ description: 'with --here: replace a .blast-env that names another environment' }),
    shell: Flags.string({
      description: 'shell for the subshell when the shell function is not installed (default: detected)',
    }),
    // Set by `blast auto` (the --auto prompt hook): the activation carries the project it is for.
    'auto-project': Flags.string({ hidden: true }),
  };

  async run(): Promise<void> {
    // Plugins' settings are flags too (`--constraint`, `--isolation`); asking plugins for them
    // costs a hook, so only when the command line has a flag the core does not know.
    const specs = unknownFlags(this.argv, RESERVED_SETTING_NAMES).length
      ? await collectSettingSpecs(this.config, RESERVED_SETTING_NAMES)
      : [];
    const { args, flags } = await this.parse({
      ...Start,
      flags: { ...Start.flags, ...settingFlags(specs) },
    });
    const status = await startEnvironment(
      { config: this.config, warn: (message) => this.warn(message) },
      {
        name: args.name,
        path: flags.path,
        python: flags.python,
        env: flags.env,
        unsetEnv: flags['unset-env'],
        shell: flags.shell,
        here: flags.here,
        force: flags.force,
        autoProject: flags['auto-project'],
        specs,
        given: givenSettings(specs, flags as Record<string, unknown>),
      },
    );
    if (status !== 0) this.exit(status);
  }
}
