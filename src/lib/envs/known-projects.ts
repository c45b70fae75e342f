/**
 * Where project-local (`--path`) environments are, remembered outside the registry: they are not
 * under BLAST_HOME/envs, so a registry that is damaged (or removed) would otherwise forget them
 * for good. `blast check --fix` rebuilds the registry from BLAST_HOME/envs, this list, and the
 * store's revisions and snapshots (each manifest names its environment's absolute path).
 *
 * The list is append-only, one JSON string a line, written before the environment appears: a
 * kill -9 leaves at most a torn last line (ignored) or a path with nothing there (ignored). Paths
 * are never taken out: an environment on a disk that is not mounted is found again when it is.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { messageOf } from '../cli/errors.js';
import { blastHome, type Env, stateDir } from '../paths.js';

export function knownProjectsFile(env: Env): string {
  return join(stateDir(env), 'projects.list');
}

function listed(env: Env): string[] {
  let text: string;
  try {
    text = readFileSync(knownProjectsFile(env), 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const path = JSON.parse(line) as unknown;
      if (typeof path === 'string' && path.startsWith('/')) out.push(path);
    } catch {
      // a torn last line, or an empty one
    }
  }
  return out;
}

/**
 * Remember a project environment's path (once). Best effort, as registering is: a failure is
 * said, and the store's manifests remain a second source.
 */
export function rememberProject(env: Env, path: string): void {
  const abs = resolve(path);
  try {
    if (listed(env).includes(abs)) return;
    mkdirSync(stateDir(env), { recursive: true, mode: 0o700 });
    appendFileSync(knownProjectsFile(env), JSON.stringify(abs) + '\n', { mode: 0o600 });
  } catch (error) {
    process.stderr.write(
      `blast: warning: cannot remember ${abs} in ${knownProjectsFile(env)}: ${messageOf(error)}\n`,
    );
  }
}

/** The `env` a manifest file (a snapshot, or a revision's `manifest`) names, if it names one. */
function manifestEnv(file: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { env?: unknown; manifest?: { env?: unknown } };
    const path = json.manifest?.env ?? json.env;
    return typeof path === 'string' && path.startsWith('/') ? path : undefined;
  } catch {
    return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Every environment path Blast has reason to know outside the registry: the list, then one
 * manifest of each environment's revisions and snapshots. Whether there is still an environment
 * at each is for the caller to see.
 */
export function knownEnvironmentPaths(env: Env): string[] {
  const found = new Set(listed(env));
  // The store's dir (store/objects.ts's storeDir), without loading the store on `blast start`.
  const store = join(blastHome(env), 'store');
  for (const top of ['revisions', 'snapshots'])
    for (const hash of listDir(join(store, top))) {
      const dir = join(store, top, hash);
      const file = listDir(dir).find((f) => f.endsWith('.json') && !f.startsWith('.') && f !== 'index.json');
      const path = file && manifestEnv(join(dir, file));
      if (path) found.add(path);
    }
  return [...found];
}
