/** `pip check`: are the requirements of every installed distribution met? */
import { type CorePip, pipErrorSummary, runPipCaptured } from './pip.js';

export interface PipCheck {
  ok: boolean;
  /** pip's lines, one per broken requirement (or why pip check could not run). */
  problems: string[];
}

export async function pipCheck(
  envPath: string,
  env: NodeJS.ProcessEnv = process.env,
  core?: CorePip,
): Promise<PipCheck> {
  const out = await runPipCaptured(envPath, ['check'], env, core);
  if (out.status === 0) return { ok: true, problems: [] };
  const problems = out.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return { ok: false, problems: problems.length > 0 ? problems : [pipErrorSummary(out)] };
}
