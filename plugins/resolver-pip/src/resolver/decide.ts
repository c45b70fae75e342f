/**
 * After the analysis, before pip: go on, ask, or refuse — by the environment's `downgrades`
 * policy and whether anyone can be asked. Returns the message of a refusal, or undefined to go on.
 */
import type { Impact } from './impact.js';
import { risks } from './impact.js';
import type { Policy } from './policy.js';

export interface Decision {
  /** Set when the transaction must not happen. */
  refuse?: string;
  /** Ask this question first (only when the user can answer). */
  ask?: string;
  /** A line saying why it goes on without asking, when there was something to ask about. */
  note?: string;
}

export function decide(
  impact: Impact,
  command: 'install' | 'uninstall',
  policy: Policy,
  interactive: boolean,
  /** What the user asked for, in the question and the refusal: `this pip install`, `this blast load`. */
  action = 'this pip install',
  /** Why the user cannot be asked, when not interactive (InstallEvent.notAsked). */
  notAsked = 'no terminal, or --yes',
): Decision {
  if (policy.downgrades === 'forbid' && impact.downgraded.length > 0) {
    const which = impact.downgraded.map((s) => `${s.name} ${s.from} -> ${s.to}`).join(', ');
    return {
      refuse:
        `this would downgrade ${which}, and this environment forbids downgrades (downgrades=forbid); nothing was ${action === 'this pip install' ? 'installed' : 'changed'}. ` +
        'Pin what you want with a constraint, or change the policy: blast config downgrades=confirm',
    };
  }
  const risky = risks(impact);
  if (risky.length === 0) return {};
  // pip uninstall asks its own question (unless -y, which makes this non-interactive anyway).
  if (command === 'uninstall') return {};
  if (policy.downgrades === 'allow')
    return { note: `going on without asking (downgrades=allow): ${risky.join(', ')}` };
  if (!interactive)
    return {
      note: `going on without asking (${notAsked}): ${risky.join(', ')}. To refuse such ${action === 'this pip install' ? 'installs' : 'changes'} instead: blast config downgrades=forbid`,
    };
  return { ask: `blast: ${risky.join(', ')}. Go on with ${action}? [y/N] ` };
}
