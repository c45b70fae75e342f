/**
 * The command line as data, for shells that complete from a model of their own (fish: oclif's
 * autocomplete plugin has no fish support, oclif/plugin-autocomplete#38). Built from the oclif
 * manifest, so it costs no command imports.
 */
import type { Interfaces } from '@oclif/core';
import type { CompletionModel } from '../plugin-host/contract.js';
import { byText } from '../text-order.js';

/**
 * Commands whose first argument names an environment. Not `load` and `save`: their argument is a
 * snapshot's name (`blast load before-upgrade`), and an environment name there would restore or
 * save under the wrong name; the environment is their `--env` flag.
 */
const ENV_ARGUMENT_COMMANDS = ['start', 'clean'];

/** A flag whose value is an environment's name says so in its help: `--env ENV`. */
const ENV_HELP_VALUE = 'ENV';

/** oclif summaries are ejs templates; completions show them as help would. */
function rendered(text: string, config: Interfaces.Config, id: string): string {
  return text.replaceAll('<%= config.bin %>', config.bin).replaceAll('<%= command.id %>', id);
}

export function completionModel(config: Interfaces.Config): CompletionModel {
  const commands = config.commands
    .filter((c) => !c.hidden)
    .map((c) => ({
      id: c.id.split(':').join(' '),
      summary: rendered((c.summary ?? c.description ?? '').split('\n')[0] ?? '', config, c.id),
      flags: Object.values(c.flags)
        .filter((f) => !f.hidden)
        .map((f) => ({
          name: f.name,
          ...(f.char ? { char: f.char } : {}),
          summary: rendered((f.summary ?? f.description ?? '').split('\n')[0] ?? '', config, c.id),
          takesValue: f.type === 'option',
          ...(f.type === 'option' && f.options ? { options: [...f.options] } : {}),
          ...(f.type === 'option' && f.helpValue === ENV_HELP_VALUE ? { environments: true } : {}),
        })),
    }))
    .sort((a, b) => byText(a.id, b.id));
  const ids = new Set(commands.map((c) => c.id));
  return {
    commands,
    listEnvironments: ['list', '--names'],
    envArgumentCommands: ENV_ARGUMENT_COMMANDS.filter((id) => ids.has(id)),
    // `save` names a new snapshot: nothing to offer there.
    listSnapshots: ['load', '--names'],
    snapshotArgumentCommands: ids.has('load') ? ['load'] : [],
  };
}
