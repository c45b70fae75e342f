import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { resolve } from 'node:path';
import { BlastCommand } from '../lib/cli/base-command.js';
import { BlastError, ExitCode } from '../lib/cli/errors.js';
import { formatBytes } from '../lib/envs/disk-usage.js';
import { pluginTransactionHooks } from '../lib/plugin-host/install-contributions.js';
import { ObjectStore } from '../lib/store/index.js';
import type { LockPulled, PullResult } from '../lib/oci/index.js';

export default class Pull extends BlastCommand {
  static override summary = 'Pull a snapshot `blast push` put in an OCI registry into an environment here.';
  static override description = `The layers Blast's store lacks are downloaded (every blob checked against its digest before anything uses it), the environment NAME (default: the repository's last component) is created with this machine's Python of the artifact's minor version or updated, and its distributions are linked from the store in one journaled change, like \`blast load\`: console scripts get this machine's shebang, nothing absolute comes from the pushing machine. The result is saved as a snapshot named after the tag, so \`blast load TAG\` brings it back later, offline. An interrupted pull is taken up by the next one without fetching again what it had verified.

With --lock-only, only the artifact's PEP 751 lock is written (to --output, default ./pylock.toml), for tools without Blast; nothing else is changed.`;

  static override examples = [
    '<%= config.bin %> pull ghcr.io/acme/api:2026-12',
    '<%= config.bin %> pull registry.example/team/api:main api-main --json',
    '<%= config.bin %> pull --lock-only registry.example/team/api:main --output pylock.toml',
    'echo "$CI_TOKEN" | <%= config.bin %> pull --username ci --password-stdin registry.example/team/api:main',
    '<%= config.bin %> pull --insecure localhost:5000/team/api:dev',
  ];

  static override enableJsonFlag = true;

  // ignoreStdin: oclif would otherwise take piped stdin (a --password-stdin password) as an argument.
  static override args = {
    ref: Args.string({
      description: 'registry/repository:tag or …@sha256:digest',
      required: true,
      ignoreStdin: true,
    }),
    name: Args.string({
      description: "environment to create or update (default: the repository's last component)",
      ignoreStdin: true,
    }),
  };

  static override flags = {
    'lock-only': Flags.boolean({ description: 'write only the pylock.toml (see --output)' }),
    output: Flags.string({
      char: 'o',
      description: 'where --lock-only writes (default: ./pylock.toml)',
      helpValue: 'FILE',
    }),
    username: Flags.string({
      char: 'u',
      description: 'registry user (the password comes from --password-stdin)',
    }),
    'password-stdin': Flags.boolean({ description: 'read the password or token from stdin' }),
    insecure: Flags.boolean({ description: 'plain HTTP, for a registry on this machine (localhost) only' }),
  };

  async run(): Promise<PullResult | LockPulled> {
    const { args, flags } = await this.parse(Pull);
    if (flags.output !== undefined && !flags['lock-only'])
      throw new BlastError('--output goes with --lock-only.', ExitCode.usage);
    if (flags['lock-only'] && args.name !== undefined)
      throw new BlastError('--lock-only takes no environment name.', ExitCode.usage);
    const oci = await import('../lib/oci/index.js');
    const ref = oci.parseReference(args.ref);
    const credentials = await oci.resolveCredentials(ref.registry, flags, process.env);
    const client = { ...(credentials ? { credentials } : {}), insecure: flags.insecure };
    const store = ObjectStore.of(process.env);
    if (flags['lock-only']) {
      const out = await oci.pullLock(ref, resolve(flags.output ?? 'pylock.toml'), client, store);
      if (!this.jsonEnabled())
        this.log(
          `Wrote ${out.lock}: ${out.distributions.length} distributions for Python ${out.python} (${out.ref}@${out.digest}).`,
        );
      return out;
    }
    const result = await oci.pull({
      ref,
      ...(args.name !== undefined ? { name: args.name } : {}),
      client,
      store,
      env: process.env,
      cwd: process.cwd(),
      json: this.jsonEnabled(),
      hooks: pluginTransactionHooks(this.config),
      interactive: process.stdin.isTTY === true && process.env.BLAST_YES !== '1',
    });
    if (!this.jsonEnabled()) {
      this.log(
        `Pulled ${result.ref}@${result.digest} into ${result.name} (${result.created ? 'created' : 'updated'}, Python ${result.python}): ` +
          `${result.distributions.length} distributions, ${result.fetched.length} layer(s) fetched (${formatBytes(result.bytesFetched)}), ${result.present.length} present. ` +
          `\`blast load ${result.snapshot} --env ${result.name}\` brings it back offline.`,
      );
    }
    return result;
  }
}
