import { withSettings } from '../lib/env-config.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { createInterface } from 'node:readline/promises';
import { BlastCommand } from '../lib/base-command.js';
import { hasOrphanedHistory, type Kept, planCoreClean, removeEnvironment } from '../lib/cleaning.js';
import { formatBytes } from '../lib/disk-usage.js';
import { resolveTarget, loadEnv } from '../lib/environments.js';
import { BlastError, ExitCode, messageOf } from '../lib/errors.js';
import type { CleanAction } from '../lib/hooks.js';
import { activePath } from '../lib/listing.js';
import { runPhase } from '../lib/phases.js';

interface Reported {
  what: string;
  why: string;
  bytes?: number;
  source: string;
  done: boolean;
  error?: string;
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

  async run(): Promise<{ actions: Reported[]; kept: Kept[] }> {
    const { args, flags } = await this.parse(Clean);
    const env = process.env;
    if (args.name !== undefined) return { actions: [await this.removeNamed(args.name, flags)], kept: [] };

    const plan = await planCoreClean(env, {
      keepRevisions: flags['keep-revisions'],
      orphanedHistory: flags['orphaned-history'],
    });
    const actions: Array<{ source: string; action: CleanAction }> = plan.actions.map((action) => ({
      source: 'blast',
      action,
    }));
    const envs = await withSettings(plan.records);
    const { results } = await runPhase(
      this.config,
      'clean',
      { envs, dryRun: flags['dry-run'], caches: flags.cache },
      'inform',
    );
    for (const { plugin, result } of results)
      for (const action of result ?? []) actions.push({ source: plugin, action });

    const reported: Reported[] = [];
    for (const { source, action } of actions) {
      const entry: Reported = {
        what: action.what,
        why: action.why,
        bytes: action.bytes,
        source,
        done: false,
      };
      if (!flags['dry-run']) {
        try {
          await action.run();
          entry.done = true;
        } catch (error) {
          entry.error = messageOf(error);
        }
      }
      reported.push(entry);
    }
    if (!this.jsonEnabled()) {
      if (reported.length === 0) this.log('Nothing to clean.');
      for (const r of reported) {
        const verb = flags['dry-run'] ? 'would remove' : r.done ? 'removed' : 'FAILED to remove';
        const size = r.bytes ? ` (${formatBytes(r.bytes)})` : '';
        this.log(`${verb} ${r.what}${size}: ${r.why}${r.error ? ` — ${r.error}` : ''}`);
      }
      for (const k of plan.kept) this.log(`kept ${k.what}: ${k.why}`);
    }
    if (reported.some((r) => r.error)) process.exitCode = ExitCode.failure;
    return { actions: reported, kept: plan.kept };
  }

  private async removeNamed(name: string, flags: { 'dry-run': boolean; yes: boolean }): Promise<Reported> {
    const env = process.env;
    const target = resolveTarget(name, undefined, { env, cwd: process.cwd() });
    const loaded = await loadEnv(target);
    // Its folder already gone (rm -rf): what Blast still keeps of it, its history, goes on request.
    const historyOnly = !loaded && hasOrphanedHistory(env, target.path);
    if (!loaded && !historyOnly)
      throw new BlastError(
        `There is no environment named ${JSON.stringify(name)}.`,
        ExitCode.notFound,
        'See `blast list`.',
      );
    if (activePath(env) === target.path) {
      throw new BlastError(`${name} is active in this shell.`, ExitCode.usage, 'Run `blast kill` first.');
    }
    // Other shells and the daemon are the daemon plugin's knowledge: it vetoes (API 1.4), before
    // anything is asked or removed.
    if (loaded) await runPhase(this.config, 'preRemove', { env: loaded.info }, 'veto');
    const entry: Reported = {
      what: historyOnly ? `the revisions of ${target.path}` : target.path,
      why: historyOnly
        ? `environment ${name}'s folder is gone; its history deleted on request`
        : `environment ${name} deleted on request`,
      source: 'blast',
      done: false,
    };
    if (flags['dry-run']) {
      if (!this.jsonEnabled()) this.log(`would remove ${entry.what}`);
      return entry;
    }
    if (!flags.yes) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) {
        throw new BlastError(`Deleting ${name} needs confirmation: pass --yes.`, ExitCode.usage);
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(
        historyOnly
          ? `Delete the history of ${name} (${target.path}, whose folder is gone)? [y/N] `
          : `Delete environment ${name} (${target.path})? [y/N] `,
      );
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        this.log('Nothing deleted.');
        return entry;
      }
    }
    await removeEnvironment(env, target.path);
    entry.done = true;
    if (!this.jsonEnabled())
      this.log(
        historyOnly ? `removed the history of ${name} (${target.path})` : `removed ${name} (${target.path})`,
      );
    return entry;
  }
}
