/**
 * `reviewInstall` (API 1.5): pip has resolved the install once and waits. Its plan against what is
 * installed is the impact (added, upgraded, downgraded, broken requirements); by the `downgrades`
 * policy the install goes on, is asked about, or is refused — and then pip installs nothing.
 */
import type { Hook } from '@oclif/core';
import type {} from 'blast/contract';
import { analyseReport, notAnalysed } from '../resolver/analyse.js';
import { policyOf } from '../resolver/policy.js';
import { review } from '../resolver/review.js';

const hook: Hook<'reviewInstall'> = async function (event) {
  if (event.pip && notAnalysed(event.pip)) return;
  const { impact, ms } = await analyseReport(event.env.path, event.env.python.version, event.report);
  if (event.ctx.env.BLAST_TIMING) process.stderr.write(`blast: timing impact=${ms.toFixed(1)}ms\n`);
  review({
    impact,
    command: 'install',
    policy: policyOf(event.env.settings),
    interactive: event.interactive,
    notAsked: event.notAsked,
    title: "this pip install (pip's resolver, dry run)",
    quiet: (event.pip?.verbosity ?? 0) < 0,
    notDone: 'nothing was installed (pass --yes to go on without asking)',
  });
};

export default hook;
