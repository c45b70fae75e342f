/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution), started on
 * 127.0.0.1 on a free port with its storage in a temp dir, with or without htpasswd auth. The
 * htpasswd file needs bcrypt (the only hash distribution accepts): made by python3 through the C
 * library's crypt(3) (libxcrypt has bcrypt) with ctypes, so no npm dependency and no
 * apache2-utils; Python's own `crypt` module is gone in 3.13, ctypes is not.
 *
 * With `token`, the registry uses the distribution spec's token authentication instead: its 401
 * says `Bearer realm=…,service=…,scope=…`, and a token service (a small Node process started here,
 * checking Basic credentials against `users`) issues ES256 JWTs signed by a key whose self-signed
 * certificate (made by openssl) is the registry's root bundle.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** The storage root (its blobs: docker/registry/v2/blobs/sha256/<2>/<hex>/data). */
  storage: string;
  blobFile(digest: string): string;
  stop(): Promise<void>;
}

const BCRYPT = String.raw`
import ctypes, sys
lib = ctypes.CDLL('libcrypt.so.1')
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
out = lib.crypt(sys.argv[1].encode(), sys.argv[2].encode())
if not out or not out.startswith(b'$2'):
    sys.exit('no bcrypt in this crypt(3)')
print(out.decode())
`;

/** A bcrypt hash of `password` for an htpasswd file. */
export function bcrypt(password: string): string {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(21);
  // 22 characters of bcrypt's base64; the last one carries only 2 bits, so it is one of four.
  const salt = [...bytes].map((b) => alphabet[b % 64]).join('') + '.Oeu'[bytes[20]! % 4];
  return execFileSync('python3', ['-c', BCRYPT, password, `$2b$05$${salt}`], { encoding: 'utf8' }).trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function ready(host: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry on ${host} did not answer within a minute`);
}

const TOKEN_SERVICE = String.raw`
const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const [port, keyFile, certFile, usersJson] = process.argv.slice(1);
const users = JSON.parse(usersJson);
const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
const der = new crypto.X509Certificate(fs.readFileSync(certFile)).raw.toString('base64');
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const basic = /^Basic (.+)$/.exec(req.headers.authorization || '');
  const [user, ...rest] = basic ? Buffer.from(basic[1], 'base64').toString().split(':') : [];
  if (!basic || users[user] !== rest.join(':')) { res.writeHead(401); res.end('{"details":"wrong credentials"}'); return; }
  const access = url.searchParams.getAll('scope').map((s) => s.split(':')).filter((p) => p.length === 3)
    .map(([type, name, actions]) => ({ type, name, actions: actions.split(',') }));
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ typ: 'JWT', alg: 'ES256', x5c: [der] });
  const body = b64({ iss: 'blast-test-issuer', sub: user, aud: url.searchParams.get('service'), exp: now + 600,
    nbf: now - 60, iat: now, jti: crypto.randomBytes(8).toString('hex'), access });
  const sig = crypto.sign('sha256', Buffer.from(head + '.' + body), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ token: head + '.' + body + '.' + sig, expires_in: 600 }));
}).listen(Number(port), '127.0.0.1');
`;

export async function startRegistry(
  options: { users?: Record<string, string>; token?: boolean } = {},
): Promise<TestRegistry> {
  const root = mkdtempSync(join(tmpdir(), 'blast-registry-'));
  const storage = join(root, 'storage');
  mkdirSync(storage);
  let auth = '';
  let tokenService: ChildProcess | undefined;
  if (options.token) {
    const key = join(root, 'token.key');
    const cert = join(root, 'token.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=blast-test-token',
        '-days',
        '2',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const port = await freePort();
    tokenService = spawn(
      process.execPath,
      ['-e', TOKEN_SERVICE, String(port), key, cert, JSON.stringify(options.users ?? {})],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await (await fetch(`http://127.0.0.1:${port}/token`)).arrayBuffer();
        break;
      } catch {
        if (Date.now() > deadline) throw new Error('the test token service did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    auth = `auth:
  token:
    realm: http://127.0.0.1:${port}/token
    service: blast-test
    issuer: blast-test-issuer
    rootcertbundle: ${cert}
`;
  } else if (options.users) {
    const file = join(root, 'htpasswd');
    writeFileSync(
      file,
      Object.entries(options.users)
        .map(([u, p]) => `${u}:${bcrypt(p)}\n`)
        .join(''),
    );
    auth = `auth:\n  htpasswd:\n    realm: blast-test\n    path: ${file}\n`;
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(root, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${auth}`,
    );
    const log = join(root, 'registry.log');
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (await ready(host, child)) {
      return {
        host,
        storage,
        blobFile: (digest) => {
          const hex = digest.replace(/^sha256:/, '');
          return join(storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
        },
        stop: async () => {
          tokenService?.kill('SIGKILL');
          if (child.exitCode === null) {
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await gone;
          }
          rmSync(root, { recursive: true, force: true });
        },
      };
    }
    // Another process took the port between freePort and the registry's listen: another port.
    if (attempt >= 3) {
      writeFileSync(log, stderr);
      throw new Error(`docker-registry did not start: ${stderr || readFileSync(log, 'utf8')}`);
    }
  }
}
