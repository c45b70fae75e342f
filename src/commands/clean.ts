import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { createInterface } from 'node:readline/promises';
import { BlastCommand } from '../lib/cli/base-command.js';
import { cleanReport, type CleanReport, removeNamed, runClean } from '../lib/envs/cleaning.js';
import { ExitCode } from '../lib/cli/errors.js';

/** Ask on the terminal; undefined where there is none to ask on. */
async function confirm(question: string): Promise<boolean | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(question);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

export default class Clean extends BlastCommand {
  static override summary =
    'Remove leftovers (stale locks, vanished environments, …) or a named environment.';
  static override description = `Without NAME: removes what crashes and deleted folders left behind, plus what plugins report, and collects the store's garbage: revisions beyond the newest 50 per environment (--keep-revisions N or BLAST_KEEP_REVISIONS; a revision a snapshot has is kept; the history of an environment whose folder is gone is kept and reported, as that looks the same as a disk that is not mounted: --orphaned-history removes it), then the objects no snapshot, revision or journal refers to (older than 10 minutes, BLAST_STORE_GC_GRACE_S), with the store's size before and after. Snapshots are never removed.

With NAME: deletes that environment and its revisions (asks first on a terminal; elsewhere pass --yes).`;

  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> clean --dry-run',
    '<%= config.bin %> clean',
    '<%= config.bin %> clean --keep-revisions 10 --dry-run',
    '<%= config.bin %> clean --orphaned-history',
    '<%= config.bin %> clean demo --yes',
  ];
  static override args = { name: Args.string({ description: 'a named environment to delete' }) };
  static override flags = {
    'dry-run': Flags.boolean({ char: 'n', description: 'show what would go, change nothing' }),
    yes: Flags.boolean({ char: 'y', description: 'do not ask before deleting an environment' }),
    cache: Flags.boolean({ description: "also clear caches tools keep outside Blast, such as pip's" }),
    'keep-revisions': Flags.integer({
      description:
        'revisions to keep per environment (default: BLAST_KEEP_REVISIONS, else 50); snapshots pin theirs',
      min: 1,
    }),
    'orphaned-history': Flags.boolean({
      description:
        'also remove the revisions of environments whose folder is gone (check first that it is not on an unmounted disk)',
    }),
  };

  async run(): Promise<CleanReport> {
    const { args, flags } = await this.parse(Clean);
    const dryRun = flags['dry-run'];
    if (args.name !== undefined) {
      const options = { env: process.env, cwd: process.cwd(), dryRun, yes: flags.yes, confirm };
      const removal = await removeNamed(this.config, args.name, options);
      if (removal.declined || !this.jsonEnabled()) this.log(removal.say);
      return { actions: [removal.entry], kept: [] };
    }
    const report = await runClean(this.config, process.env, {
      keepRevisions: flags['keep-revisions'],
      orphanedHistory: flags['orphaned-history'],
      dryRun,
      caches: flags.cache,
    });
    if (!this.jsonEnabled()) for (const line of cleanReport(report, dryRun)) this.log(line);
    if (report.actions.some((r) => r.error)) process.exitCode = ExitCode.failure;
    return report;
  }
}
