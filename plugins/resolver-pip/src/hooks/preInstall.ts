/**
 * `preInstall`: point pip at the environment's constraints; for an uninstall, show what it would
 * remove and break; for a restore from the store, its planned change. The `downgrades` policy then
 * goes on, asks or refuses (a refusal throws: nothing changes). An install is reviewed once pip
 * has resolved it (`reviewInstall`): one resolution, not a dry run first.
 */
import type { Hook } from '@oclif/core';
import type { InstallContribution } from 'blast/contract';
import { analyseUninstall, notAnalysed } from '../resolver/analyse.js';
import { pipConstraintValue, writeConstraints } from '../resolver/constraints.js';
import { plannedImpact } from '../resolver/impact.js';
import { policyOf } from '../resolver/policy.js';
import { review } from '../resolver/review.js';

const hook: Hook<'preInstall'> = async function (event): Promise<InstallContribution | void> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const policy = policyOf(event.env.settings);
  const contribution: InstallContribution = {};
  if (writeConstraints(event.env.path, policy.constraints) && policy.constraints.length > 0)
    contribution.env = { PIP_CONSTRAINT: pipConstraintValue(event.env.path, event.ctx.env.PIP_CONSTRAINT) };
  const quiet = (event.pip?.verbosity ?? 0) < 0;
  if (event.planned) {
    // A restore from the store (API 1.4: blast load, --revision, a lock's store part): no pip
    // runs, but its planned change meets the same policy, so `downgrades=forbid` cannot be
    // bypassed by loading an older snapshot or revision.
    const action = event.source === 'lock' ? 'this blast load --lock' : 'this blast load';
    review({
      impact: plannedImpact(event.planned),
      command: 'install',
      policy,
      interactive: event.interactive,
      notAsked: event.notAsked,
      title: action,
      action,
      quiet,
      notDone: 'nothing was changed (BLAST_YES=1 goes on without asking)',
    });
    return contribution;
  }
  if (event.command !== 'uninstall' || !event.pip || notAnalysed(event.pip)) return contribution;
  const analysis = await analyseUninstall(event.env.path, event.env.python.version, event.pip);
  if (event.ctx.env.BLAST_TIMING && analysis.status !== 'skipped')
    say(`blast: timing impact=${analysis.ms.toFixed(1)}ms`);
  if (analysis.status !== 'done') return contribution;
  review({
    impact: analysis.impact,
    command: 'uninstall',
    policy,
    interactive: event.interactive,
    notAsked: event.notAsked,
    title: 'this pip uninstall',
    quiet,
    notDone: 'nothing was installed (pass --yes to go on without asking)',
  });
  return contribution;
};

export default hook;
