/**
 * The consistency check after an install, in-process: every installed distribution's
 * `Requires-Dist` (markers evaluated with `extra` empty, PEP 440 specifiers with pre-releases
 * allowed) against what is installed — what `pip check` does, with its verdicts and its lines,
 * without starting a Python (a `pip check` costs a pip start-up, longer than the whole check here).
 *
 * `pip check` itself stays the fallback, and runs instead whenever this cannot answer exactly as
 * it would: a requirement or marker this cannot read, a legacy `.egg-info` distribution (read by
 * pip, not here), or BLAST_PIP_CHECK=pip in the environment.
 */
import { readdir } from 'node:fs/promises';
import { brokenRequirements } from './impact.js';
import { installedDistributions, sitePackagesDirs } from './installed.js';
import type { MarkerEnvironment } from './markers.js';
import { markerEnvironment } from './marker-environment.js';
import { pipCheck, type PipCheck } from './pip-check.js';
import { normalizeName } from './requirement.js';

export interface ConsistencyOptions {
  envPath: string;
  pythonVersion?: string;
  /** The interpreter's marker environment when known (pip's report carries it); else asked from it. */
  environment?: MarkerEnvironment;
  env?: NodeJS.ProcessEnv;
  /** Where the marker environment asked from the interpreter is kept (the core's ctx.cacheDir). */
  cacheDir?: string;
}

/** Why the in-process check cannot stand in for `pip check` here, or undefined when it can. */
async function needsPip(envPath: string, pythonVersion: string | undefined, env: NodeJS.ProcessEnv) {
  if (env.BLAST_PIP_CHECK === 'pip') return 'BLAST_PIP_CHECK=pip';
  for (const dir of await sitePackagesDirs(envPath, pythonVersion)) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    if (entries.some((e) => e.endsWith('.egg-info') || e.endsWith('.egg'))) return 'a legacy .egg-info';
  }
  return undefined;
}

export async function consistencyCheck(
  options: ConsistencyOptions,
): Promise<PipCheck & { by: 'blast' | 'pip' }> {
  const env = options.env ?? process.env;
  const pip = async () => ({ ...(await pipCheck(options.envPath, env)), by: 'pip' as const });
  if (await needsPip(options.envPath, options.pythonVersion, env)) return pip();
  const [installed, environment] = await Promise.all([
    installedDistributions(options.envPath, options.pythonVersion),
    options.environment ?? markerEnvironment(options.envPath, options.cacheDir),
  ]);
  const unevaluated: string[] = [];
  const broken = brokenRequirements(installed, environment, unevaluated);
  if (unevaluated.length > 0) return pip();
  // pip check's own lines: canonical names, the missing one first.
  const lines = broken.map((c) => {
    const [name, version] = c.dist.split(' ') as [string, string];
    const required = normalizeName(c.requirement.split(/[\s;[(<>=!~@]/)[0]!);
    return c.found === null
      ? `${normalizeName(name)} ${version} requires ${required}, which is not installed.`
      : `${normalizeName(name)} ${version} has requirement ${c.requirement}, but you have ${required} ${c.found}.`;
  });
  const missing = lines.filter((l) => l.endsWith('which is not installed.'));
  const problems = [...missing, ...lines.filter((l) => !l.endsWith('which is not installed.'))];
  return { ok: problems.length === 0, problems, by: 'blast' };
}
