import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BlastCommand } from '../lib/cli/base-command.js';
import { BlastError, ExitCode } from '../lib/cli/errors.js';
import { formatBytes } from '../lib/envs/disk-usage.js';
import { ObjectStore } from '../lib/store/index.js';
import { assertSnapshotName, snapshotTarget } from '../lib/envs/target.js';
import type { PushResult } from '../lib/oci/index.js';

export default class Push extends BlastCommand {
  static override summary =
    'Push a snapshot to an OCI registry (ghcr.io, Docker Hub, Harbor, GitLab, ECR, distribution).';
  static override description = `The environment's named snapshot (or, without SNAPSHOT, its current state) becomes an OCI artifact: a manifest (artifactType application/vnd.blast.snapshot.v1) whose config holds the Python version, variables, settings, every distribution with its wheel name and sha256, and a PEP 751 pylock.toml; one layer per distribution, a tar of its files. Layers the registry has already are not sent again (it answers HEAD for them), so a second push after one package changed uploads only that package's layer, the config and the manifest. \`blast pull REF\` brings it into an environment on another machine.

The environment's variables travel with it: keep secrets out of \`blast start --env\` of an environment you push. The lock's archives are the ones your pip finds for those versions (as \`blast save --lock\`).

Credentials come from --username with --password-stdin, else Docker's config.json (\`docker login\`, credential helpers). --insecure talks plain HTTP, to a registry on this machine only.`;

  static override examples = [
    '<%= config.bin %> push ghcr.io/acme/api:2026-12',
    '<%= config.bin %> push before-upgrade registry.example/team/api:known-good',
    '<%= config.bin %> push --env api registry.example/team/api:main --json',
    'echo "$CI_TOKEN" | <%= config.bin %> push --username ci --password-stdin registry.example/team/api:main',
    '<%= config.bin %> push --insecure localhost:5000/team/api:dev',
  ];

  static override enableJsonFlag = true;

  // ignoreStdin: oclif would otherwise take piped stdin (a --password-stdin password) as an argument.
  static override args = {
    first: Args.string({
      description: 'SNAPSHOT to push (default: the current state), then REF',
      required: true,
      ignoreStdin: true,
    }),
    ref: Args.string({ description: 'REF: registry/repository:tag', ignoreStdin: true }),
  };

  static override flags = {
    env: Flags.string({
      description: 'named environment to push (default: the active one)',
      helpValue: 'ENV',
    }),
    path: Flags.string({ description: 'project-local environment directory to push', helpValue: 'DIR' }),
    username: Flags.string({
      char: 'u',
      description: 'registry user (the password comes from --password-stdin)',
    }),
    'password-stdin': Flags.boolean({ description: 'read the password or token from stdin' }),
    insecure: Flags.boolean({ description: 'plain HTTP, for a registry on this machine (localhost) only' }),
  };

  async run(): Promise<PushResult> {
    const { args, flags } = await this.parse(Push);
    const snapshot = args.ref === undefined ? undefined : assertSnapshotName(args.first);
    const refText = args.ref ?? args.first;
    const oci = await import('../lib/oci/index.js');
    const ref = oci.parseReference(refText);
    if (ref.digest)
      throw new BlastError('Push to a tag, not a digest: the digest is what the push makes.', ExitCode.usage);
    const { info } = await snapshotTarget(flags, { env: process.env, cwd: process.cwd() });
    const credentials = await oci.resolveCredentials(ref.registry, flags, process.env);
    const chunk = oci.chunkBytes(process.env);
    const result = await oci.push({
      info,
      ref,
      ...(snapshot ? { snapshot } : {}),
      client: {
        ...(credentials ? { credentials } : {}),
        insecure: flags.insecure,
        ...(chunk ? { chunkBytes: chunk } : {}),
      },
      store: ObjectStore.of(process.env),
      env: process.env,
      json: this.jsonEnabled(),
    });
    if (!this.jsonEnabled()) {
      this.log(
        `Pushed ${info.name} (${result.snapshot}) to ${result.ref}@${result.digest}: ` +
          `${result.uploaded.length} uploaded (${formatBytes(result.bytesUploaded)}), ${result.mounted.length} mounted, ${result.skipped.length} already there.`,
      );
    }
    return result;
  }
}
