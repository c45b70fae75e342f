/**
 * Update impact: what an install or uninstall would change, from the installed distributions and
 * pip's own resolution (`pip install --dry-run --report`). Nothing here resolves anything: the
 * plan is pip's. What is computed here is the difference, how big each version step is, and which
 * installed distributions' requirements the result would break.
 */
import { pep440 } from './pep440.js';
import type { Distribution } from './installed.js';
import { evaluateMarker, type MarkerEnvironment } from './markers.js';
import { normalizeName, parseRequirement } from './requirement.js';

export interface Step {
  name: string;
  from: string;
  to: string;
  /** A major version step (see `isMajorJump`). */
  major: boolean;
}

export interface Conflict {
  /** The distribution whose requirement would be broken, `name version`. */
  dist: string;
  requirement: string;
  /** The version it would find, or null when the required distribution would be missing. */
  found: string | null;
}

export interface Impact {
  added: Array<{ name: string; version: string }>;
  upgraded: Step[];
  downgraded: Step[];
  removed: Array<{ name: string; version: string }>;
  /** Same version installed again (`--force-reinstall`, a URL). */
  reinstalled: Array<{ name: string; version: string }>;
  /** Requirements satisfied now and broken afterwards. */
  conflicts: Conflict[];
  /** Requirements already broken before this change (kept apart: not this change's doing). */
  alreadyBroken: Conflict[];
  /** Requirements that could not be evaluated (an unreadable requirement or marker), with why. */
  unevaluated: string[];
}

/** pip's installation report (format version 1), the parts used here. */
export interface PipReport {
  version: string;
  install: Array<{
    metadata: { name: string; version: string; requires_dist?: string[] };
    requested?: boolean;
  }>;
  environment: Record<string, string>;
}

/** Read the report; pip's logs may come first when the user asked for them, the JSON is last. */
export function parseReport(stdout: string): PipReport {
  const attempt = (text: string) => {
    const report = JSON.parse(text) as PipReport;
    if (!Array.isArray(report.install) || typeof report.environment !== 'object')
      throw new Error('not a pip installation report');
    return report;
  };
  try {
    return attempt(stdout);
  } catch (error) {
    const start = stdout.search(/^\{\s*$/m);
    if (start <= 0) throw error;
    return attempt(stdout.slice(start));
  }
}

/**
 * A step crosses a major version: another epoch, another first release number, or for 0.x
 * versions another second number (0.3 → 0.4 breaks by the usual convention). Unreadable
 * versions count as major: nothing says they are not.
 */
export function isMajorJump(from: string, to: string): boolean {
  const a = pep440().explain(from);
  const b = pep440().explain(to);
  if (!a || !b) return from !== to;
  if (a.epoch !== b.epoch) return true;
  if ((a.release[0] ?? 0) !== (b.release[0] ?? 0)) return true;
  return (a.release[0] ?? 0) === 0 && (a.release[1] ?? 0) !== (b.release[1] ?? 0);
}

function compareVersions(a: string, b: string): number {
  if (pep440().valid(a) && pep440().valid(b)) return pep440().compare(a, b);
  return a === b ? 0 : a < b ? -1 : 1;
}

type State = ReadonlyMap<string, Pick<Distribution, 'name' | 'version' | 'requires'>>;

/**
 * Requirements of every distribution in `state` that `state` does not satisfy. Requirements that
 * only apply to an extra are not evaluated (as `pip check` does: which extras were asked for is
 * not recorded). Versions are checked with pre-releases allowed, as pip check does.
 */
export function brokenRequirements(
  state: State,
  environment: MarkerEnvironment,
  unevaluated: string[] = [],
): Conflict[] {
  const broken: Conflict[] = [];
  const env = { ...environment, extra: '' };
  for (const dist of state.values()) {
    for (const line of dist.requires) {
      let req;
      try {
        req = parseRequirement(line);
        if (req.marker !== undefined && !evaluateMarker(req.marker, env)) continue;
      } catch (error) {
        unevaluated.push(`${dist.name} ${dist.version}: ${(error as Error).message}`);
        continue;
      }
      const found = state.get(req.key);
      const conflict = { dist: `${dist.name} ${dist.version}`, requirement: line.trim() };
      if (!found) broken.push({ ...conflict, found: null });
      else if (req.specifier !== '' && !satisfies(found.version, req.specifier))
        broken.push({ ...conflict, found: found.version });
    }
  }
  return broken;
}

function satisfies(version: string, specifier: string): boolean {
  try {
    return pep440().satisfies(version, specifier, { prereleases: true });
  } catch {
    return false;
  }
}

function compareConflicts(
  before: Conflict[],
  after: Conflict[],
): Pick<Impact, 'conflicts' | 'alreadyBroken'> {
  const key = (c: Conflict) => `${c.dist.split(' ')[0]}\0${c.requirement}`;
  const old = new Set(before.map(key));
  return {
    conflicts: after.filter((c) => !old.has(key(c))),
    alreadyBroken: after.filter((c) => old.has(key(c))),
  };
}

export function emptyImpact(): Impact {
  return {
    added: [],
    upgraded: [],
    downgraded: [],
    removed: [],
    reinstalled: [],
    conflicts: [],
    alreadyBroken: [],
    unevaluated: [],
  };
}

// Code-unit order: localeCompare's first call loads ICU's collator (~6 ms, while pip waits for the review).
const byName = <T extends { name: string }>(list: T[]) =>
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** What installing pip's plan would change. */
export function installImpact(installed: ReadonlyMap<string, Distribution>, report: PipReport): Impact {
  const impact = emptyImpact();
  const after = new Map<string, Pick<Distribution, 'name' | 'version' | 'requires'>>(installed);
  for (const item of report.install) {
    const { name, version } = item.metadata;
    const key = normalizeName(name);
    const now = installed.get(key);
    after.set(key, { name, version, requires: item.metadata.requires_dist ?? [] });
    if (!now) impact.added.push({ name, version });
    else {
      const order = compareVersions(now.version, version);
      const step = { name, from: now.version, to: version, major: isMajorJump(now.version, version) };
      if (order < 0) impact.upgraded.push(step);
      else if (order > 0) impact.downgraded.push(step);
      else impact.reinstalled.push({ name, version });
    }
  }
  finish(impact, installed, after, report.environment);
  return impact;
}

/**
 * The impact of a change the core planned itself (a restore from the store, API 1.4's
 * `InstallEvent.planned`): `name version` lists, and `name old -> new` for every version change,
 * sorted here into upgrades and downgrades. Requirements are not known (the store's manifest does
 * not carry them), so no conflicts; `pip check` after it still runs (postInstall).
 */
export function plannedImpact(planned: {
  added: readonly string[];
  removed: readonly string[];
  upgraded: readonly string[];
}): Impact {
  const impact = emptyImpact();
  const split = (d: string) => ({
    name: d.slice(0, d.lastIndexOf(' ')),
    version: d.slice(d.lastIndexOf(' ') + 1),
  });
  for (const d of planned.added) impact.added.push(split(d));
  for (const d of planned.removed) impact.removed.push(split(d));
  for (const u of planned.upgraded) {
    const m = /^(\S+) (\S+) -> (\S+)$/.exec(u);
    if (!m) continue;
    const [, name, from, to] = m as unknown as [string, string, string, string];
    const order = compareVersions(from, to);
    const step = { name, from, to, major: isMajorJump(from, to) };
    if (order < 0) impact.upgraded.push(step);
    else if (order > 0) impact.downgraded.push(step);
    else impact.reinstalled.push({ name, version: to });
  }
  for (const list of [impact.added, impact.upgraded, impact.downgraded, impact.removed, impact.reinstalled])
    byName(list as Array<{ name: string }>);
  return impact;
}

/** What `pip uninstall NAMES` would change (names not installed are skipped, as pip skips them). */
export function uninstallImpact(
  installed: ReadonlyMap<string, Distribution>,
  names: readonly string[],
  environment: MarkerEnvironment,
): Impact {
  const impact = emptyImpact();
  const after = new Map(installed);
  for (const name of names) {
    const dist = after.get(normalizeName(name));
    if (!dist) continue;
    after.delete(normalizeName(name));
    impact.removed.push({ name: dist.name, version: dist.version });
  }
  finish(impact, installed, after, environment);
  return impact;
}

function finish(impact: Impact, before: State, after: State, environment: MarkerEnvironment): void {
  const unevaluated: string[] = [];
  Object.assign(
    impact,
    compareConflicts(
      brokenRequirements(before, environment, []),
      brokenRequirements(after, environment, unevaluated),
    ),
  );
  impact.unevaluated = [...new Set(unevaluated)];
  const lists: Array<Array<{ name: string }>> = [
    impact.added,
    impact.upgraded,
    impact.downgraded,
    impact.removed,
    impact.reinstalled,
  ];
  for (const list of lists) byName(list);
}

export function isEmpty(impact: Impact): boolean {
  return (
    impact.added.length +
      impact.upgraded.length +
      impact.downgraded.length +
      impact.removed.length +
      impact.reinstalled.length ===
    0
  );
}

/** What deserves a question on a terminal: a downgrade, a removal, a major step, a conflict. */
export function risks(impact: Impact): string[] {
  const out: string[] = [];
  if (impact.downgraded.length > 0) out.push(`${impact.downgraded.length} downgrade(s)`);
  if (impact.removed.length > 0) out.push(`${impact.removed.length} removal(s)`);
  const majors = [...impact.upgraded, ...impact.downgraded].filter((s) => s.major).length;
  if (majors > 0) out.push(`${majors} major version jump(s)`);
  if (impact.conflicts.length > 0) out.push(`${impact.conflicts.length} broken requirement(s)`);
  return out;
}
