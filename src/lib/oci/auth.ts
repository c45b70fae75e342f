/**
 * Registry credentials the way Docker, podman and ORAS keep them, and the two challenges a
 * registry answers 401 with (distribution spec, "token authentication"):
 *
 * - `--username` with `--password-stdin`;
 * - Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
 *   `credHelpers[<registry>]`, then `auths[<registry>]` (`auth`: base64 `user:password`, or an
 *   `identitytoken`), then `credsStore` — a helper is `docker-credential-<name> get`, which reads
 *   the server on stdin and prints `{"Username", "Secret"}`;
 * - `WWW-Authenticate: Basic realm=…` → the request again with Basic credentials;
 *   `WWW-Authenticate: Bearer realm=…,service=…,scope=…` → a token from the realm (with Basic
 *   credentials when there are some; anonymously else), then the request with `Bearer <token>`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { Env } from '../paths.js';
import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for errors ("--username", "~/.docker/config.json", "docker-credential-pass"). */
  source: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export function dockerConfigPath(env: Env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

/** The keys config.json may file a registry under (Docker Hub has its historical URL). */
function keysOf(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`];
  if (registry === DOCKER_HUB)
    keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

function fromHelper(helper: string, registry: string, env: Env): Credentials | undefined {
  const program = `docker-credential-${helper}`;
  for (const server of keysOf(registry)) {
    const run = spawnSync(program, ['get'], { input: server, encoding: 'utf8', env, timeout: 60_000 });
    if (run.error) {
      throw new BlastError(
        `Docker's config names the credential helper ${program}, which cannot be run: ${(run.error as NodeJS.ErrnoException).code ?? run.error.message}.`,
        ExitCode.failure,
        `Install ${program}, or give --username and --password-stdin.`,
      );
    }
    if (run.status !== 0) continue; // "credentials not found in native keychain": try the next key
    try {
      const got = JSON.parse(run.stdout) as { Username?: string; Secret?: string };
      if (got.Secret) return { username: got.Username ?? '', password: got.Secret, source: program };
    } catch {
      throw new BlastError(`${program} get printed something that is not JSON.`, ExitCode.failure);
    }
  }
  return undefined;
}

/** Credentials for `registry` from Docker's config.json, or undefined when it has none. */
export function dockerCredentials(registry: string, env: Env): Credentials | undefined {
  const file = dockerConfigPath(env);
  let config: DockerConfig;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as DockerConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BlastError(`Cannot read Docker's ${file}: ${(error as Error).message}`, ExitCode.failure);
  }
  const keys = keysOf(registry);
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean);
  if (helper) return fromHelper(helper, registry, env);
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.identitytoken) return { username: '<token>', password: entry.identitytoken, source: file };
    if (entry.auth) {
      const text = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1), source: file };
    }
    if (entry.username && entry.password)
      return { username: entry.username, password: entry.password, source: file };
  }
  if (config.credsStore) return fromHelper(config.credsStore, registry, env);
  return undefined;
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** `Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p; (p = re.exec(m[2]!));)
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme, params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** Read all of stdin (for --password-stdin). */
async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * The credentials for `registry`: --username with --password-stdin (as `docker login` takes
 * them), else Docker's config.json and its helpers, else none (anonymous; a registry that wants
 * some says so with its 401, and the error says how to give them).
 */
export async function resolveCredentials(
  registry: string,
  flags: { username?: string; 'password-stdin'?: boolean },
  env: Env,
): Promise<Credentials | undefined> {
  if (flags['password-stdin'] && flags.username === undefined)
    throw new BlastError('--password-stdin needs --username.', ExitCode.usage);
  if (flags.username !== undefined) {
    if (!flags['password-stdin'])
      throw new BlastError(
        '--username needs --password-stdin (a password on the command line would be in your shell history and in `ps`).',
        ExitCode.usage,
        'echo "$TOKEN" | blast push --username USER --password-stdin REF',
      );
    const password = (await readStdin()).replace(/\r?\n$/, '');
    if (!password) throw new BlastError('--password-stdin read no password from stdin.', ExitCode.usage);
    return { username: flags.username, password, source: '--username' };
  }
  return dockerCredentials(registry, env);
}
