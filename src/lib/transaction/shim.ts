/**
 * The pip shim: a directory put first on PATH by the activation, holding `pip`, `pip3` and
 * `pip3.X` scripts that run `blast pip -- ARGS…`, so every pip a user types in an active
 * environment runs inside a transaction. One directory per Python minor version and Blast
 * installation, shared by every environment of that version, under the cache dir (it is regenerable). `python -m pip`
 * bypasses it by design.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { cacheDir, type Env } from '../paths.js';
import { readVenv } from '../venv/cfg.js';
import { READ_ONLY } from './pip-args.js';

/** Quote for POSIX sh: the value read back byte for byte. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `3.11.7` → `3.11`; undefined when the version does not say. */
function minorOf(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/**
 * Which Blast installation a shim runs: the scripts embed node's path and run.js's, so two
 * checkouts (or a checkout and a global install) sharing one cache must not share one directory,
 * or each start would rewrite the other's shim to run itself. 12 hex digits of the SHA-256 of
 * run.js's real path and node's path.
 */
export function installationKey(node: string, runJs: string): string {
  let real = runJs;
  try {
    real = realpathSync(runJs);
  } catch {
    // not there (a test's fake): its path as given
  }
  return createHash('sha256').update(`${real}\0${node}`).digest('hex').slice(0, 12);
}

/** `<cache>/shim/<minor>-<installation>`: a direct child of `<cache>/shim` (`kill --force` relies on it). */
export function shimDir(pythonVersion: string, node: string, runJs: string, env: Env = process.env): string {
  return join(cacheDir(env), 'shim', `${minorOf(pythonVersion) ?? 'any'}-${installationKey(node, runJs)}`);
}

/**
 * The script every name in the shim directory holds. Read-only pip commands (`pip list`,
 * `pip --version`, …) go straight to the active environment's pip, without starting Node:
 * they need no transaction, and this keeps them as fast as plain pip.
 */
export function shimScript(node: string, runJs: string): string {
  const readOnly = [...READ_ONLY, '--version', '-V'].join('|');
  return [
    '#!/bin/sh',
    "# Blast's pip shim: pip runs inside a Blast transaction (see `blast pip`).",
    'case "${1-}" in',
    `  ${readOnly})`,
    '    if [ -n "${VIRTUAL_ENV-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then',
    '      exec "$VIRTUAL_ENV/bin/python" -m pip "$@"',
    '    fi',
    '    ;;',
    'esac',
    `exec ${shQuote(node)} ${shQuote(runJs)} pip -- "$@"`,
    '',
  ].join('\n');
}

export function shimNames(pythonVersion: string): string[] {
  const minor = minorOf(pythonVersion);
  const major = minor?.split('.')[0];
  return ['pip', ...(major ? [`pip${major}`] : []), ...(minor ? [`pip${minor}`] : [])];
}

/**
 * Make sure the shim directory for this Python exists with the right scripts; returns it. Each
 * script is written atomically (temporary file, then rename), and only when its content differs,
 * so concurrent starts never see a half-written script.
 */
export function ensureShim(
  pythonVersion: string,
  node: string,
  runJs: string,
  env: Env = process.env,
): string {
  const dir = shimDir(pythonVersion, node, runJs, env);
  const script = shimScript(node, runJs);
  mkdirSync(dir, { recursive: true });
  for (const name of shimNames(pythonVersion)) {
    const file = join(dir, name);
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === script) continue;
    writeFileAtomic(file, script, { mode: 0o755, durable: false });
  }
  return dir;
}

/** The shim directory an activation of the environment at `envPath` by this Blast (node, run.js) puts first on PATH. */
export function shimDirFor(envPath: string, node: string, runJs: string, env: Env = process.env): string {
  return shimDir(readVenv(envPath).version ?? '', node, runJs, env);
}
