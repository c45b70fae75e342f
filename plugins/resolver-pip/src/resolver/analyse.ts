/**
 * The impact of a pip command line in an environment, without changing it: pip's resolver in a
 * dry run for an install, the named distributions for an uninstall.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { planFor } from './args.js';
import { installImpact, parseReport, uninstallImpact, type Impact } from './impact.js';
import { installedDistributions } from './installed.js';
import type { MarkerEnvironment } from './markers.js';
import { type CorePip, pipErrorSummary, pythonOf, runPipCaptured } from './pip.js';

export type Analysis =
  | { status: 'done'; command: 'install' | 'uninstall'; impact: Impact; ms: number }
  | { status: 'skipped'; why: string }
  | { status: 'failed'; why: string; ms: number };

// What packaging's default_environment() computes, for markers when there is no pip report.
const MARKER_ENV = String.raw`
import json, os, platform, sys
i = sys.implementation.version
v = '%d.%d.%d' % (i.major, i.minor, i.micro)
if i.releaselevel != 'final':
    v += i.releaselevel[0] + str(i.serial)
print(json.dumps({'implementation_name': sys.implementation.name, 'implementation_version': v,
  'os_name': os.name, 'platform_machine': platform.machine(), 'platform_release': platform.release(),
  'platform_system': platform.system(), 'platform_version': platform.version(),
  'python_full_version': platform.python_version(),
  'platform_python_implementation': platform.python_implementation(),
  'python_version': '.'.join(platform.python_version_tuple()[:2]), 'sys_platform': sys.platform}))
`;

export async function markerEnvironment(envPath: string): Promise<MarkerEnvironment> {
  const { stdout } = await promisify(execFile)(pythonOf(envPath), ['-E', '-s', '-c', MARKER_ENV]);
  return JSON.parse(stdout) as MarkerEnvironment;
}

export interface AnalyseOptions {
  envPath: string;
  /** X.Y or X.Y.Z: which lib/pythonX.Y holds site-packages. */
  pythonVersion?: string;
  /** pip's arguments (`install -U alpha`, `uninstall -y beta`). */
  args: readonly string[];
  /** pip's environment (with PIP_CONSTRAINT when the environment has constraints). */
  env: NodeJS.ProcessEnv;
  /** The core's pip launcher (API 1.6), so the dry run runs where the install will (its sandbox). */
  pip?: CorePip;
}

export async function analyse(options: AnalyseOptions): Promise<Analysis> {
  const plan = planFor(options.args);
  if (plan.kind === 'skip') return { status: 'skipped', why: plan.why };
  const t0 = performance.now();
  const installedP = installedDistributions(options.envPath, options.pythonVersion);
  if (plan.kind === 'uninstall') {
    const [installed, environment] = await Promise.all([installedP, markerEnvironment(options.envPath)]);
    const impact = uninstallImpact(installed, plan.names, environment);
    return { status: 'done', command: 'uninstall', impact, ms: performance.now() - t0 };
  }
  const [installed, out] = await Promise.all([
    installedP,
    runPipCaptured(options.envPath, plan.dryRun, options.env, options.pip),
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
