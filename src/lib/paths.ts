/**
 * Where Blast keeps things. Every function takes the environment explicitly so tests (and the
 * shell function, which passes its own environment) never depend on the process's globals.
 */
import { homedir, tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

function home(env: Env): string {
  return env.HOME || homedir();
}

/** Absolute value of an XDG variable, or the default (relative values are ignored, per the spec). */
function xdg(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value && value.startsWith('/') ? value : join(home(env), fallback);
}

/** BLAST_HOME: named environments, the registry and the snapshot store. */
export function blastHome(env: Env = process.env): string {
  const explicit = env.BLAST_HOME;
  if (explicit) return resolve(explicit);
  return join(xdg(env, 'XDG_DATA_HOME', '.local/share'), 'blast');
}

export function envsDir(env: Env = process.env): string {
  return join(blastHome(env), 'envs');
}

export function stateDir(env: Env = process.env): string {
  return join(blastHome(env), 'state');
}

/**
 * One environment's own state directory (plugins' per-environment files: the daemon's database,
 * log, pid file): 16 hex digits of the SHA-256 of its absolute path, so every process finds the
 * same directory for the same environment without a lookup.
 */
export function envStateDir(envPath: string, env: Env = process.env): string {
  const hash = createHash('sha256').update(resolve(envPath)).digest('hex').slice(0, 16);
  return join(stateDir(env), 'envs', hash);
}

/**
 * Regenerable data: interpreter facts, the pip seed. BLAST_CACHE_DIR overrides it; else it is
 * under BLAST_HOME when that is set, so one variable isolates everything.
 */
export function cacheDir(env: Env = process.env): string {
  if (env.BLAST_CACHE_DIR) return resolve(env.BLAST_CACHE_DIR);
  if (env.BLAST_HOME) return join(blastHome(env), 'cache');
  return join(xdg(env, 'XDG_CACHE_HOME', '.cache'), 'blast');
}

/** Sockets, pid files and other per-boot things; created 0700 by whoever needs it. */
export function runtimeDir(env: Env = process.env): string {
  const xdgRuntime = env.XDG_RUNTIME_DIR;
  if (xdgRuntime && xdgRuntime.startsWith('/')) return join(xdgRuntime, 'blast');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return join(env.TMPDIR || tmpdir(), `blast-${uid}`);
}
