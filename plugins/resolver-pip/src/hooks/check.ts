/**
 * `check`: per environment, its consistency (broken requirements: a warning, a failure under
 * consistency=strict) — pip's own `pip check` for `blast check NAME`, the in-process check with
 * pip check's verdicts over every environment (a hundred pips would take half a minute; the
 * interpreters' marker environments are asked once per interpreter) and whether its constraints file says what its settings say (repairable);
 * once, the size of pip's cache.
 */
import type { Hook } from '@oclif/core';
import type { CheckResult, EnvInfo } from 'blast/contract';
import { existsSync, realpathSync } from 'node:fs';
import { constraintsInSync, constraintsPath, writeConstraints } from '../resolver/constraints.js';
import { directorySize, formatSize, pipCacheDir } from '../resolver/pip-cache.js';
import { pipCheck } from '../resolver/pip-check.js';
import { consistencyCheck } from '../resolver/consistency.js';
import { markerEnvironment } from '../resolver/marker-environment.js';
import type { MarkerEnvironment } from '../resolver/markers.js';
import { pythonOf } from '../resolver/pip.js';
import { policyOf } from '../resolver/policy.js';

/** One marker environment per interpreter: environments of the same Python share it. */
function markersOnce(cacheDir: string): (env: EnvInfo) => Promise<MarkerEnvironment> {
  const asked = new Map<string, Promise<MarkerEnvironment>>();
  return (env) => {
    let key: string;
    try {
      key = realpathSync(pythonOf(env.path));
    } catch {
      key = env.path;
    }
    if (!asked.has(key)) asked.set(key, markerEnvironment(env.path, cacheDir));
    return asked.get(key)!;
  };
}

async function consistency(
  env: EnvInfo,
  named: boolean,
  markers: (env: EnvInfo) => Promise<MarkerEnvironment>,
): Promise<CheckResult> {
  const base = { name: 'pip check', env: env.name };
  const result = named
    ? await pipCheck(env.path)
    : await consistencyCheck({
        envPath: env.path,
        pythonVersion: env.python.version,
        environment: await markers(env),
      });
  if (result.ok) return { ...base, status: 'ok', message: 'no broken requirements' };
  const strict = policyOf(env.settings).consistency === 'strict';
  return { ...base, status: strict ? 'fail' : 'warn', message: result.problems.join('; ') };
}

function constraints(env: EnvInfo): CheckResult | undefined {
  const { constraints } = policyOf(env.settings);
  const exists = existsSync(constraintsPath(env.path));
  if (constraints.length === 0 && !exists) return undefined;
  const base = { name: 'pip constraints', env: env.name };
  const list = constraints.length === 0 ? 'none' : constraints.join(', ');
  // No file yet: no activated shell points at one; the next start or pip transaction writes it.
  if (!exists || constraintsInSync(env.path, constraints)) return { ...base, status: 'ok', message: list };
  return {
    ...base,
    status: 'warn',
    message: `${constraintsPath(env.path)} does not say what the settings say (${list}); shells activated before the change still use it`,
    fix: 'rewrite it from the settings',
    repair: async () => void writeConstraints(env.path, constraints),
  };
}

async function cache(env: EnvInfo): Promise<CheckResult | undefined> {
  const dir = await pipCacheDir(env.path);
  if (!dir) return undefined;
  const size = await directorySize(dir);
  return {
    name: 'pip cache',
    status: 'ok',
    message: `${formatSize(size)} in ${dir} (shared by every environment; \`blast clean --cache\` clears it)`,
  };
}

const hook: Hook<'check'> = async function ({ envs, named, ctx }) {
  const usable = envs.filter((e) => existsSync(pythonOf(e.path)));
  const markers = markersOnce(ctx.cacheDir);
  const results = await Promise.all(usable.map((env) => consistency(env, named === true, markers)));
  for (const env of usable) {
    const c = constraints(env);
    if (c) results.push(c);
  }
  const sized = usable[0] ? await cache(usable[0]) : undefined;
  if (sized) results.push(sized);
  return results;
};

export default hook;
