/**
 * `preInstall`: point pip at the environment's constraints, then show what the command would
 * change (pip's resolver in a dry run) and, by the `downgrades` policy, ask, refuse or go on.
 * A refusal throws: pip does not run and nothing changes.
 */
import type { Hook } from '@oclif/core';
import type { InstallContribution } from 'blast/contract';
import { analyse } from '../resolver/analyse.js';
import { confirm } from '../resolver/confirm.js';
import { pipConstraintValue, writeConstraints } from '../resolver/constraints.js';
import { decide } from '../resolver/decide.js';
import { isEmpty, plannedImpact } from '../resolver/impact.js';
import { policyOf } from '../resolver/policy.js';
import { impactTable } from '../resolver/table.js';

class Refused extends Error {
  readonly exitCode = 4;
}

const hook: Hook<'preInstall'> = async function (event): Promise<InstallContribution | void> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const policy = policyOf(event.env.settings);
  const contribution: InstallContribution = {};
  if (writeConstraints(event.env.path, policy.constraints) && policy.constraints.length > 0)
    contribution.env = { PIP_CONSTRAINT: pipConstraintValue(event.env.path, process.env.PIP_CONSTRAINT) };
  if (event.planned) {
    // A restore from the store (API 1.4: blast load, --revision, a lock's store part): no pip
    // runs, but its planned change meets the same policy, so `downgrades=forbid` cannot be
    // bypassed by loading an older snapshot or revision.
    const impact = plannedImpact(event.planned);
    if (isEmpty(impact)) return contribution;
    const action = event.source === 'lock' ? 'this blast load --lock' : 'this blast load';
    say(`blast: impact of ${action}:`);
    for (const line of impactTable(impact)) say(line);
    const decision = decide(impact, 'install', policy, event.interactive, action, event.notAsked);
    if (decision.refuse) throw new Refused(decision.refuse);
    if (decision.note) say(`blast: ${decision.note}`);
    if (decision.ask && !confirm(decision.ask))
      throw new Refused('not confirmed; nothing was changed (BLAST_YES=1 goes on without asking)');
    return contribution;
  }
  if (event.command === 'other') return contribution;

  const analysis = await analyse({
    envPath: event.env.path,
    pythonVersion: event.env.python.version,
    args: event.args,
    env: { ...process.env, ...contribution.env },
    ...(event.pip ? { pip: event.pip.bind(event) } : {}),
  });
  if (process.env.BLAST_TIMING && analysis.status !== 'skipped')
    say(`blast: timing impact=${analysis.ms.toFixed(1)}ms`);
  if (analysis.status === 'skipped') return contribution;
  if (analysis.status === 'failed') {
    say(`blast: no impact analysis: pip's dry run failed (${analysis.why}); pip runs and decides.`);
    return contribution;
  }
  const { impact, command } = analysis;
  if (isEmpty(impact) && impact.conflicts.length === 0) return contribution;
  say(`blast: impact of this pip ${command}${command === 'install' ? " (pip's resolver, dry run)" : ''}:`);
  for (const line of impactTable(impact)) say(line);
  const decision = decide(impact, command, policy, event.interactive, undefined, event.notAsked);
  if (decision.refuse) throw new Refused(decision.refuse);
  if (decision.note) say(`blast: ${decision.note}`);
  if (decision.ask && !confirm(decision.ask))
    throw new Refused('not confirmed; nothing was installed (pass --yes to go on without asking)');
  return contribution;
};

export default hook;
