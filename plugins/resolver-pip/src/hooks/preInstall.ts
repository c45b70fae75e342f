/**
 * `preInstall`: point pip at the environment's constraints; for an uninstall, show what it would
 * remove and break; for a restore from the store, its planned change. The `downgrades` policy then
 * goes on, asks or refuses (a refusal throws: nothing changes). An install is reviewed once pip
 * has resolved it (`reviewInstall`): one resolution, not a dry run first.
 */
import type { Hook } from '@oclif/core';
import type { InstallContribution } from 'blast/contract';
import { pipConstraintValue, writeConstraints } from '../resolver/constraints.js';
import { policyOf } from '../resolver/policy.js';

// The analysis (PEP 440 and markers) and the review load only for what needs them: every pip
// install waits for this handler before pip starts, and reviews its plan later (reviewInstall).
const analysis = () => import('../resolver/analyse.js');
const reviewing = () => import('../resolver/review.js');

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
    const [{ plannedImpact }, { review }] = await Promise.all([import('../resolver/impact.js'), reviewing()]);
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
  if (event.command !== 'uninstall' || !event.pip) return contribution;
  const { analyseUninstall, notAnalysed } = await analysis();
  if (notAnalysed(event.pip)) return contribution;
  const result = await analyseUninstall(
    event.env.path,
    event.env.python.version,
    event.pip,
    event.ctx.cacheDir,
  );
  if (event.ctx.env.BLAST_TIMING && result.status !== 'skipped')
    say(`blast: timing impact=${result.ms.toFixed(1)}ms`);
  if (result.status !== 'done') return contribution;
  const { review } = await reviewing();
  review({
    impact: result.impact,
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
