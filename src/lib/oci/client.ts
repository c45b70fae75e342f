/**
 * A small OCI distribution-spec client on Node's own fetch (undici): what push and pull need and
 * nothing else. Every blob goes up as the spec's chunked upload (POST, PATCH chunk by chunk with
 * Content-Range, PUT ?digest=) after a HEAD said the registry lacks it, or is mounted from another
 * repository of the same registry (POST ?mount=&from=); every blob and manifest that comes down is
 * hashed while it arrives and refused when it is not the digest it was asked by.
 *
 * Why not a library: the npm registry has no maintained OCI client for Node that fits (Node 20
 * ESM, chunked upload, mounts, verified downloads): @sigstore/oci uploads whole buffers in one
 * PUT and downloads nothing, oci-registry-client and docker-registry-client are unmaintained
 * CommonJS on node-fetch/restify. See docs/sync.md.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { BlastError, ExitCode } from '../cli/errors.js';
import { basicHeader, type Challenge, type Credentials, parseChallenge } from './auth.js';
import { apiHost, isLoopback, type Reference } from './reference.js';

export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
/** The spec's limit a registry may enforce; a manifest is small. */
const MAX_MANIFEST = 4 << 20;
/** Default PATCH size: big enough for few round trips, small enough for proxies' body limits. */
export const DEFAULT_CHUNK = 8 << 20;

export interface ClientOptions {
  credentials?: Credentials;
  /** Plain HTTP: only for a loopback registry, and only when asked. */
  insecure?: boolean;
  /** Bytes per PATCH (BLAST_OCI_CHUNK_BYTES for tests). */
  chunkBytes?: number;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export type Upload = 'exists' | 'mounted' | 'uploaded';

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The registry's own words from an error body (`{"errors":[{"code","message"}]}`). */
async function registryWords(res: Response): Promise<string> {
  try {
    const text = await res.text();
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const words = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    return words ? ` (${words})` : '';
  } catch {
    return '';
  }
}

export class RegistryClient {
  readonly base: string;
  private authorization: string | undefined;
  private readonly name: string;

  constructor(
    readonly ref: Pick<Reference, 'registry' | 'repository'>,
    private readonly options: ClientOptions = {},
  ) {
    if (options.insecure && !isLoopback(ref.registry)) {
      throw new BlastError(
        `--insecure (plain HTTP) is only allowed for a registry on this machine (localhost, 127.0.0.1, ::1), not ${ref.registry}.`,
        ExitCode.usage,
        'Use the registry over HTTPS.',
      );
    }
    this.base = `${options.insecure ? 'http' : 'https'}://${apiHost(ref)}`;
    this.name = ref.repository;
  }

  private url(path: string): URL {
    return new URL(path, this.base);
  }

  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        headers: { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        ...(body ? { body } : {}),
        redirect: 'follow',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new BlastError(
        `Cannot reach the registry ${this.ref.registry} (${this.base}): ${why}.`,
        ExitCode.failure,
        why === 'ECONNREFUSED' || /HTTP|SSL|TLS|EPROTO/i.test(why)
          ? 'Check the registry runs there; a plain-HTTP registry on this machine takes --insecure.'
          : 'Check the name and your network.',
      );
    }
  }

  /** Get a token for `scope` from a Bearer challenge's realm. */
  private async token(challenge: Challenge, scope: string): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm)
      throw new BlastError(
        `The registry ${this.ref.registry} asked for a token without saying where to get it.`,
      );
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of scope.split(' ')) url.searchParams.append('scope', s);
    const c = this.options.credentials;
    let res: Response;
    try {
      res = await fetch(url, { headers: c ? { authorization: basicHeader(c) } : {} });
    } catch (error) {
      throw new BlastError(`Cannot reach the token service ${url.origin}: ${(error as Error).message}.`);
    }
    if (res.status === 401 || res.status === 403) throw this.refused(res.status);
    if (!res.ok)
      throw new BlastError(
        `The token service ${url.origin} answered ${res.status}${await registryWords(res)}.`,
      );
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new BlastError(`The token service ${url.origin} gave no token.`);
    return `Bearer ${token}`;
  }

  private refused(status: number): BlastError {
    const c = this.options.credentials;
    return new BlastError(
      c
        ? `The registry ${this.ref.registry} refused the credentials of ${c.username || 'the token'} (from ${c.source}) for ${this.name} (HTTP ${status}).`
        : `The registry ${this.ref.registry} needs credentials for ${this.name} (HTTP ${status}).`,
      ExitCode.failure,
      c
        ? 'Check the user name and password (or token), and that this user may push/pull this repository.'
        : 'Log in with `docker login`, or give --username and --password-stdin.',
    );
  }

  /**
   * A request, authenticating on the first 401 as its challenge asks (Basic, or a Bearer token
   * for `scope`); a second 401 is refused credentials. `body` is a Buffer so it can be re-sent.
   */
  async request(
    method: string,
    url: URL,
    options: { headers?: Record<string, string>; body?: Buffer; scope: string },
  ): Promise<Response> {
    const headers = options.headers ?? {};
    let res = await this.send(method, url, headers, options.body);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    await res.arrayBuffer().catch(() => undefined);
    if (!challenge) throw this.refused(401);
    if (challenge.scheme === 'basic') {
      if (!this.options.credentials) throw this.refused(401);
      this.authorization = basicHeader(this.options.credentials);
    } else {
      const scope = [challenge.params.scope, options.scope].filter(Boolean).join(' ');
      this.authorization = await this.token(challenge, scope);
    }
    res = await this.send(method, url, headers, options.body);
    if (res.status === 401) throw this.refused(401);
    return res;
  }

  private scope(actions: string): string {
    return `repository:${this.name}:${actions}`;
  }

  private async fail(res: Response, what: string): Promise<never> {
    if (res.status === 403) throw this.refused(403);
    throw new BlastError(
      `The registry ${this.ref.registry} answered ${res.status} to ${what}${await registryWords(res)}.`,
      ExitCode.failure,
    );
  }

  /** Whether the repository has the blob (HEAD). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', this.url(`/v2/${this.name}/blobs/${digest}`), {
      scope: this.scope('pull,push'),
    });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, `HEAD of blob ${digest}`);
  }

  /**
   * Put the blob held in `file` (`size` bytes, `digest`) into the repository: nothing when it is
   * there already, a mount when `mountFrom` (a repository of the same registry) has it, else a
   * chunked upload. `onBytes` hears every chunk sent.
   */
  async pushBlob(
    file: string,
    digest: string,
    size: number,
    options: { mountFrom?: string; onBytes?: (n: number) => void } = {},
  ): Promise<Upload> {
    if (await this.hasBlob(digest)) return 'exists';
    let location: string | null;
    if (options.mountFrom && options.mountFrom !== this.name) {
      const url = this.url(`/v2/${this.name}/blobs/uploads/`);
      url.searchParams.set('mount', digest);
      url.searchParams.set('from', options.mountFrom);
      const res = await this.request('POST', url, {
        headers: { 'content-length': '0' },
        scope: `${this.scope('pull,push')} repository:${options.mountFrom}:pull`,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 201) return 'mounted';
      if (res.status !== 202) return this.fail(res, `a mount of ${digest} from ${options.mountFrom}`);
      location = res.headers.get('location'); // not mountable: the registry opened an upload instead
    } else {
      const res = await this.request('POST', this.url(`/v2/${this.name}/blobs/uploads/`), {
        headers: { 'content-length': '0' },
        scope: this.scope('pull,push'),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status !== 202) return this.fail(res, 'the start of an upload');
      location = res.headers.get('location');
    }
    if (!location)
      throw new BlastError(`The registry ${this.ref.registry} opened an upload without a Location.`);
    const chunk = Math.max(1, this.options.chunkBytes ?? DEFAULT_CHUNK);
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(size, 1)));
      let offset = 0;
      while (offset < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
        if (n === 0) throw new BlastError(`${file} is shorter than it was a moment ago.`);
        const url = this.url(location);
        const res = await this.request('PATCH', url, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${offset + n - 1}`,
            'content-length': String(n),
          },
          body: Buffer.from(buf.subarray(0, n)),
          scope: this.scope('pull,push'),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.status !== 202) return this.fail(res, `a chunk of ${digest}`);
        location = res.headers.get('location') ?? location;
        offset += n;
        options.onBytes?.(n);
      }
    } finally {
      closeSync(fd);
    }
    const url = this.url(location);
    url.searchParams.set('digest', digest);
    const res = await this.request('PUT', url, {
      headers: { 'content-length': '0' },
      scope: this.scope('pull,push'),
    });
    if (res.status !== 201) return this.fail(res, `the end of the upload of ${digest}`);
    await res.arrayBuffer().catch(() => undefined);
    return 'uploaded';
  }

  async putManifest(reference: string, body: Buffer): Promise<string> {
    const res = await this.request('PUT', this.url(`/v2/${this.name}/manifests/${reference}`), {
      headers: { 'content-type': MANIFEST_TYPE },
      body,
      scope: this.scope('pull,push'),
    });
    if (res.status !== 201) return this.fail(res, `the manifest ${reference}`);
    await res.arrayBuffer().catch(() => undefined);
    return sha256Digest(body);
  }

  /** The manifest's bytes and digest, verified: by the digest asked for, else the one the registry says. */
  async getManifest(reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    const res = await this.request('GET', this.url(`/v2/${this.name}/manifests/${reference}`), {
      headers: { accept: `${MANIFEST_TYPE}, ${INDEX_TYPE}` },
      scope: this.scope('pull'),
    });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      throw new BlastError(
        `The registry ${this.ref.registry} has no ${this.name}:${reference}.`,
        ExitCode.notFound,
        'Check the repository and tag (`blast push` puts one there).',
      );
    }
    if (res.status !== 200) return this.fail(res, `the manifest ${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST) throw new BlastError(`The manifest ${reference} is larger than 4 MiB.`);
    const digest = sha256Digest(bytes);
    const claimed = reference.startsWith('sha256:') ? reference : res.headers.get('docker-content-digest');
    if (claimed && claimed !== digest) {
      throw new BlastError(
        `The manifest of ${this.name}:${reference} is not what its digest says (${claimed}, got ${digest}); nothing was changed.`,
        ExitCode.failure,
        'The registry or something between it and you changed it: pull by a digest you trust.',
      );
    }
    return { bytes, digest, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
  }

  /**
   * Download a blob into `file` (created, fsynced), hashing it on the way: a blob that is not
   * `digest` or not `size` bytes is refused (the file is the caller's to remove).
   */
  async fetchBlob(digest: string, size: number, file: string, onBytes?: (n: number) => void): Promise<void> {
    const res = await this.request('GET', this.url(`/v2/${this.name}/blobs/${digest}`), {
      scope: this.scope('pull'),
    });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      throw new BlastError(
        `The registry ${this.ref.registry} lacks the blob ${digest} of ${this.name}; nothing was changed.`,
      );
    }
    if (res.status !== 200 || !res.body) return this.fail(res, `the blob ${digest}`);
    const hash = createHash('sha256');
    let got = 0;
    const fd = openSync(file, 'w', 0o600);
    try {
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        got += part.length;
        if (got > size) break;
        hash.update(part);
        let off = 0;
        while (off < part.length) off += writeSync(fd, part, off, part.length - off);
        onBytes?.(part.length);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (got !== size || actual !== digest) {
      throw new BlastError(
        `The blob ${digest} of ${this.ref.registry}/${this.name} is not what its digest says ` +
          `(${got > size ? `more than ${size}` : got} bytes, sha256 ${got > size ? 'not checked' : actual}); nothing was changed.`,
        ExitCode.failure,
        "The registry's copy is damaged or was changed: push the snapshot again.",
      );
    }
  }
}

/** Read a blob file into memory (the config). */
export function readSmall(file: string, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const fd = openSync(file, 'r');
  try {
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}
