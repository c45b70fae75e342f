/**
 * The impact of a pip command in an environment, without changing it: for an install, from pip's
 * installation report (the one resolution the core's transaction makes, or a dry run for
 * `blast impact`); for an uninstall, the named distributions.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { PipCommandLine, PipReport } from 'blast/contract';
import { emptyImpact, installImpact, parseReport, uninstallImpact, type Impact } from './impact.js';
import { installedDistributions } from './installed.js';
import { markerEnvironment } from './marker-environment.js';
import { pipErrorSummary, runPipCaptured } from './pip.js';
import { parseRequirement } from './requirement.js';

export type Analysis =
  | { status: 'done'; command: 'install' | 'uninstall'; impact: Impact; ms: number }
  | { status: 'skipped'; why: string }
  | { status: 'failed'; why: string; ms: number };

/** Options that install somewhere other than the environment (or only pretend to): no analysis. */
const ELSEWHERE: Record<string, string> = {
  target: 'installs into a --target directory',
  prefix: 'installs under another --prefix',
  root: 'installs under another --root',
  user: 'installs into the user site',
  'dry-run': 'is already a dry run',
};

/** Why the impact of this pip command line on the environment means nothing, if it does not. */
export function notAnalysed(pip: PipCommandLine): string | undefined {
  if (pip.command !== 'install' && pip.command !== 'uninstall')
    return `pip ${pip.command ?? '(no command)'} is not an install or uninstall`;
  if (pip.command === 'install')
    for (const [option, why] of Object.entries(ELSEWHERE))
      if (pip.options[option]) return `this pip install ${why}`;
  return undefined;
}

/** What an install would change: pip's report against the installed distributions. */
export async function analyseReport(envPath: string, pythonVersion: string | undefined, report: PipReport) {
  const t0 = performance.now();
  // Nothing to install (pip found it all there): nothing changes, so nothing can break, and the
  // installed distributions need not be read while pip waits.
  if (report.install.length === 0) return { impact: emptyImpact(), ms: performance.now() - t0 };
  const installed = await installedDistributions(envPath, pythonVersion);
  return { impact: installImpact(installed, report), ms: performance.now() - t0 };
}

/** Names in a requirements file (what `pip uninstall -r` removes), or why it cannot be read. */
function requirementsFile(file: string): string[] | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `cannot read ${file}: ${(error as Error).message}`;
  }
  const names: string[] = [];
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || line.startsWith('-')) continue;
    try {
      names.push(parseRequirement(line).name);
    } catch {
      return `cannot read ${JSON.stringify(line)} in ${file}`;
    }
  }
  return names;
}

/** The names `pip uninstall` removes (its -r files, then its arguments), or why they cannot be read. */
export function uninstallNames(pip: PipCommandLine): string[] | { why: string } {
  const names: string[] = [];
  for (const file of pip.options.requirement ?? []) {
    const read = requirementsFile(file);
    if (typeof read === 'string') return { why: read };
    names.push(...read);
  }
  for (const arg of pip.requirements) {
    try {
      names.push(parseRequirement(arg).name);
    } catch {
      return { why: `cannot read ${JSON.stringify(arg)} as a requirement` };
    }
  }
  return names;
}

/** What `pip uninstall` of the parsed command line would remove and break. */
export async function analyseUninstall(
  envPath: string,
  pythonVersion: string | undefined,
  pip: PipCommandLine,
  cacheDir?: string,
): Promise<Analysis> {
  const t0 = performance.now();
  const names = uninstallNames(pip);
  if (!Array.isArray(names)) return { status: 'skipped', why: names.why };
  const [installed, environment] = await Promise.all([
    installedDistributions(envPath, pythonVersion),
    markerEnvironment(envPath, cacheDir),
  ]);
  const impact = uninstallImpact(installed, names, environment);
  return { status: 'done', command: 'uninstall', impact, ms: performance.now() - t0 };
}

/** `blast impact`: pip's resolver in a dry run of `pip install ARGS` (quiet, its report on stdout). */
export async function analyseDryRun(
  envPath: string,
  pythonVersion: string | undefined,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<Analysis> {
  const t0 = performance.now();
  const [installed, out] = await Promise.all([
    installedDistributions(envPath, pythonVersion),
    runPipCaptured(envPath, ['install', '--dry-run', '--report', '-', '--quiet', ...args], env),
  ]);
  const ms = () => performance.now() - t0;
  if (out.status !== 0) {
    if (/no such option: --(dry-run|report)/.test(out.stderr))
      return {
        status: 'skipped',
        why: "this environment's pip is too old for --dry-run --report (pip 22.2+)",
      };
    return { status: 'failed', why: pipErrorSummary(out), ms: ms() };
  }
  let report;
  try {
    report = parseReport(out.stdout);
  } catch (error) {
    return { status: 'failed', why: `cannot read pip's report: ${(error as Error).message}`, ms: ms() };
  }
  return { status: 'done', command: 'install', impact: installImpact(installed, report), ms: ms() };
}
