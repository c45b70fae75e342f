/**
 * `clean --cache`: pip's cache (downloads and built wheels, shared by every environment) goes,
 * through pip's own `pip cache purge`. Without --cache, `blast check` shows its size.
 */
import type { Hook } from '@oclif/core';
import type { CleanAction } from 'blast/contract';
import { existsSync } from 'node:fs';
import { directorySize, pipCacheDir } from '../resolver/pip-cache.js';
import { pipErrorSummary, pythonOf, runPipCaptured } from '../resolver/pip.js';

const hook: Hook<'clean'> = async function ({ envs, caches }) {
  if (!caches) return [];
  const env = envs.find((e) => existsSync(pythonOf(e.path)));
  if (!env) return [];
  const dir = await pipCacheDir(env.path);
  if (!dir) return [];
  const bytes = await directorySize(dir);
  if (bytes === 0) return [];
  const action: CleanAction = {
    what: `pip cache ${dir}`,
    why: "pip's downloads and built wheels (`pip cache purge`), shared by every environment",
    bytes,
    run: async () => {
      const out = await runPipCaptured(env.path, ['cache', 'purge']);
      if (out.status !== 0) throw new Error(pipErrorSummary(out));
    },
  };
  return [action];
};

export default hook;
