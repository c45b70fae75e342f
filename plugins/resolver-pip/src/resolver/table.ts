/** The impact as text: one row per changed distribution, then the requirements it would break. */
import type { Conflict, Impact } from './impact.js';

function conflictLine(c: Conflict): string {
  return `${c.dist} requires ${c.requirement}, ${c.found === null ? 'which would be missing' : `would get ${c.found}`}`;
}

export function impactTable(impact: Impact): string[] {
  const rows: string[][] = [];
  for (const s of impact.upgraded) rows.push(['upgrade', s.name, s.from, s.to, s.major ? 'MAJOR' : '']);
  for (const s of impact.downgraded)
    rows.push(['downgrade', s.name, s.from, s.to, s.major ? 'MAJOR, DOWNGRADE' : 'DOWNGRADE']);
  for (const d of impact.added) rows.push(['add', d.name, '', d.version, '']);
  for (const d of impact.removed) rows.push(['remove', d.name, d.version, '', 'REMOVAL']);
  for (const d of impact.reinstalled) rows.push(['reinstall', d.name, d.version, d.version, '']);
  const lines: string[] = [];
  if (rows.length === 0) lines.push('  nothing to change');
  else {
    const all = [['change', 'distribution', 'installed', 'after', 'note'], ...rows];
    const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    for (const row of all)
      lines.push(`  ${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  }
  if (impact.conflicts.length > 0) {
    lines.push('  would break:');
    for (const c of impact.conflicts) lines.push(`    ${conflictLine(c)}`);
  }
  if (impact.alreadyBroken.length > 0) {
    lines.push('  already broken (not by this change):');
    for (const c of impact.alreadyBroken) lines.push(`    ${conflictLine(c)}`);
  }
  if (impact.unevaluated.length > 0) {
    lines.push('  not evaluated:');
    for (const u of impact.unevaluated) lines.push(`    ${u}`);
  }
  return lines;
}
