/**
 * Taking in the venvs people already have: `blast start` on a `.venv` (or `--path DIR`, or a name
 * under BLAST_HOME/envs) that `python -m venv`, virtualenv, uv, poetry or virtualenvwrapper made.
 * Blast adds its blast.json beside the venv's own files and changes nothing of them (activate
 * scripts, pyvenv.cfg, shebangs), so the venv's own `bin/activate` still drives it; it is
 * registered, and its state as found becomes revision 1 ("adopted"), so the first change after
 * can be undone. What is not a venv (no pyvenv.cfg, no python, a Python that no longer runs) is
 * refused with why and the way out, before anything is written.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvInfo } from '../plugin-host/contract.js';
import type { Context, Loaded, Target } from './environments.js';
import { adoptEnvConfig, CONFIG_FILE, type EnvConfig, infoOf } from './config.js';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { withRegistry } from './registry.js';
import { rememberProject } from './known-projects.js';
import { shellArg } from '../shell/arg.js';
import { readVenv, type VenvInfo } from '../venv/cfg.js';

export interface Adoption {
  info: EnvInfo;
  config: EnvConfig;
}

const exists = (path: string) => statSync(path, { throwIfNoEntry: false }) !== undefined;

/** A venv Blast did not create: pyvenv.cfg without blast.json. Two stats on the hot path. */
export function isForeignVenv(path: string): boolean {
  return !exists(join(path, CONFIG_FILE)) && exists(join(path, 'pyvenv.cfg'));
}

/** Which tool made the venv, as its pyvenv.cfg says (`uv = 0.4.2`, `virtualenv = 20.26.3`). */
export function madeBy(cfg: VenvInfo): string {
  if (cfg.values.uv) return `uv ${cfg.values.uv}`;
  // poetry and virtualenvwrapper make their venvs with virtualenv.
  if (cfg.values.virtualenv) return `virtualenv ${cfg.values.virtualenv}`;
  return 'python -m venv';
}

function refuse(target: Target, why: string, way: string): BlastError {
  return new BlastError(
    `${target.path} is not a virtual environment Blast can take in: ${why}; nothing was changed.`,
    ExitCode.usage,
    way,
  );
}

/** Check the venv and learn its Python, writing nothing: the adoption to make, or why not. */
export async function planAdoption(target: Target, ctx: Context): Promise<Adoption> {
  const again = `Make it again (\`python3 -m venv --clear ${shellArg(target.path)}\`), or remove it and let \`blast start\` create one.`;
  let cfg: VenvInfo;
  try {
    cfg = readVenv(target.path);
  } catch (error) {
    throw refuse(target, messageOf(error).replace(/\.$/, ''), again);
  }
  const python = join(target.path, 'bin', 'python');
  if (!exists(python)) throw refuse(target, `it has no ${python} (or it points at nothing)`, again);
  const { probe } = await import('../python/probe.js');
  const { versionString } = await import('../python/version.js');
  let facts;
  try {
    facts = await probe(python, ctx.env);
  } catch (error) {
    throw refuse(target, `its Python does not run (${messageOf(error)})`, again);
  }
  const now = new Date().toISOString();
  const config: EnvConfig = {
    v: 1,
    name: target.name,
    kind: target.kind,
    python: {
      executable: facts.baseExecutable ?? cfg.executable ?? join(cfg.home, 'python3'),
      version: versionString(facts.versionInfo),
      implementation: facts.implementation,
    },
    createdAt: now,
    variables: {},
    adopted: { madeBy: madeBy(cfg), at: now, added: [CONFIG_FILE] },
  };
  return { info: infoOf(target.path, config), config };
}

/**
 * Take the venv in: its blast.json (unless another start wrote one meanwhile: then theirs), its
 * registry entry, and its state as found as revision 1. A failure to register or record is said,
 * not fatal: the next command registers it, and the history records it then.
 */
export async function adopt(adoption: Adoption, ctx: Context): Promise<Loaded> {
  const { path, name } = adoption.info;
  if (adoption.info.kind === 'local') rememberProject(ctx.env, path);
  const { config, written } = await adoptEnvConfig(path, adoption.config);
  const loaded = { info: infoOf(path, config), config };
  if (!written) return loaded;
  try {
    await withRegistry(ctx.env, (tx) => tx.put({ ...loaded.info, createdAt: config.createdAt }));
  } catch (error) {
    process.stderr.write(`blast: warning: ${name} was taken in but not registered: ${messageOf(error)}\n`);
  }
  const { recordFirst } = await import('../store/first-revision.js');
  const recorded = recordFirst(path, ctx.env, 'adopted', adoption.config.adopted!.madeBy);
  const what = recorded ? `; revision 1 is its ${recorded.distributions.length} distributions as found` : '';
  process.stderr.write(
    `blast: took in ${name} (Python ${config.python.version}, made by ${config.adopted!.madeBy}) in ${path}${what}\n`,
  );
  return loaded;
}
