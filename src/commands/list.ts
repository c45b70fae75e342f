import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { listEnvironments, type Listed } from '../lib/envs/listing.js';
import { formatBytes } from '../lib/envs/disk-usage.js';
import { table } from '../lib/cli/table.js';
import { formatSettings } from '../lib/plugin-host/settings.js';

/**
 * The environment's settings, then plugins' facts, as `key=value`, in plugin order. A fact with
 * no value (null, e.g. a stopped daemon's memory) is left out here; --json keeps it.
 */
function details(e: Listed): string {
  const facts = Object.values(e.plugins)
    .flatMap((fields) =>
      Object.entries(fields)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}=${v}`),
    )
    .join(' ');
  return [formatSettings(e.settings), facts].filter(Boolean).join(' ');
}

export default class List extends BlastCommand {
  static override summary = 'List environments: name, Python, size, path, and which one is active.';
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --json',
    '<%= config.bin %> list --size',
    '<%= config.bin %> list --no-size',
  ];
  static override flags = {
    names: Flags.boolean({
      description: 'print only names, one per line (for shell completion)',
      hidden: true,
    }),
    size: Flags.boolean({
      description:
        'measure disk usage exactly (walks each environment); by default sizes come from the last recorded change',
      allowNo: true,
    }),
  };

  async run(): Promise<Listed[]> {
    const { flags } = await this.parse(List);
    const envs = await listEnvironments(process.env, {
      size: flags.names || flags.size === false ? 'none' : flags.size ? 'measured' : 'recorded',
      ...(flags.names ? {} : { config: this.config }),
    });
    if (flags.names) {
      for (const e of envs) if (e.kind === 'named') this.log(e.name);
      return envs;
    }
    if (!this.jsonEnabled()) {
      if (envs.length === 0) this.log('No environments yet. Create one with `blast start NAME`.');
      else
        this.log(
          table(
            ['', 'NAME', 'PYTHON', 'SIZE', 'PACKAGES', 'KIND', 'DETAILS', 'PATH'],
            envs.map((e) => [
              e.active ? '*' : '',
              e.name,
              e.python.version,
              e.missing ? 'missing' : e.bytes === undefined ? '-' : formatBytes(e.bytes),
              e.packages === undefined ? '-' : String(e.packages),
              e.kind,
              details(e) || '-',
              e.path,
            ]),
          ),
        );
    }
    return envs;
  }
}
