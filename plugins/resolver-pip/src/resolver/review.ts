/**
 * Showing an impact and acting on the `downgrades` policy: go on, ask, or refuse (a refusal
 * throws; the core then changes nothing). Under pip's `-q` the table is shown only when it comes
 * with a question: nothing else but pip speaks.
 */
import { confirm } from './confirm.js';
import { failure } from './errors.js';
import { decide } from './decide.js';
import { isEmpty, type Impact } from './impact.js';
import type { Policy } from './policy.js';
import { impactTable } from './table.js';

/** A refusal: exit status 4, the message says why. */
const refused = (message: string) => failure(message, 4);

export interface Review {
  impact: Impact;
  command: 'install' | 'uninstall';
  policy: Policy;
  interactive: boolean;
  notAsked?: string;
  /** The table's title: `this pip install (pip's resolver)`, `this blast load`. */
  title: string;
  /** For the decision's question and refusal: `this pip install`, `this blast load`. */
  action?: string;
  quiet: boolean;
  /** What a refused question says was not done. */
  notDone: string;
}

export function review(r: Review, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  if (isEmpty(r.impact) && r.impact.conflicts.length === 0) return;
  const decision = decide(r.impact, r.command, r.policy, r.interactive, r.action, r.notAsked);
  if (!r.quiet || decision.ask) {
    say(`blast: impact of ${r.title}:`);
    for (const line of impactTable(r.impact)) say(line);
  }
  if (decision.refuse) throw refused(decision.refuse);
  if (decision.note && !r.quiet) say(`blast: ${decision.note}`);
  if (decision.ask && !confirm(decision.ask)) throw refused(`not confirmed; ${r.notDone}`);
}
