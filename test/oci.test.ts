/**
 * Team sync through a real OCI registry (Debian's docker-registry, CNCF distribution, started by
 * the test on 127.0.0.1): `blast push` from one BLAST_HOME, `blast pull` into fresh ones, with
 * wheels this test builds and pip finding archives only through PIP_NO_INDEX / PIP_FIND_LINKS.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, lstatSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'smol-toml';
import { blast, sandbox, throughFunction, type Sandbox } from './support/cli.js';
import { startRegistry, type TestRegistry } from './support/oci-registry.js';
import { parseReference } from '../src/lib/oci/reference.js';
import { buildWheel, isolatedPipEnv } from './support/wheels.js';

interface Pushed {
  digest: string;
  uploaded: { digest: string; size: number; what: string }[];
  skipped: { digest: string; size: number; what: string }[];
  mounted: { digest: string; what: string }[];
  bytesUploaded: number;
}
interface Pulled {
  env: string;
  created: boolean;
  snapshot: string;
  fetched: { digest: string; size: number; what: string }[];
  present: { digest: string; what: string }[];
  bytesFetched: number;
}

/** Every regular file under `dir` whose bytes hold `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(needle)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe('blast push / blast pull through a real OCI registry', function () {
  this.timeout(300_000);
  let registry: TestRegistry;
  let box: Sandbox;
  let wheels: string;
  let source: string;
  const boxes: Sandbox[] = [];
  const pipVars = (b: Sandbox) => ({
    ...(isolatedPipEnv(b.env) as Record<string, string>),
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: pathToFileURL(wheels).href,
    // Small chunks: every layer goes up as several PATCHes.
    BLAST_OCI_CHUNK_BYTES: '4096',
  });
  const pip = (b: Sandbox, env: string, ...args: string[]) =>
    execFileSync(join(env, 'bin', 'python'), ['-m', 'pip', ...args], {
      env: pipVars(b),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const freeze = (b: Sandbox, env: string) => pip(b, env, 'freeze');
  /** `name version` of what is installed (a lock's installs are `name @ url` to freeze). */
  const dists = (b: Sandbox, env: string) =>
    (JSON.parse(pip(b, env, 'list', '--format', 'json')) as { name: string; version: string }[])
      .map((d) => `${d.name} ${d.version}`)
      .filter((d) => !d.startsWith('pip '))
      .sort();
  const run = (b: Sandbox, args: string[], env: Record<string, string> = {}, input?: string) =>
    blast(b, args, { env: { ...pipVars(b), ...env }, ...(input !== undefined ? { input } : {}) });
  const ok = <T>(b: Sandbox, args: string[], env: Record<string, string> = {}): T => {
    const r = run(b, [...args, '--json'], env);
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    return JSON.parse(r.stdout) as T;
  };
  const fresh = () => {
    const b = sandbox();
    boxes.push(b);
    return b;
  };
  const ref = (repo: string, tag: string) => `${registry.host}/${repo}:${tag}`;

  before(async () => {
    registry = await startRegistry();
    box = sandbox();
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const started = throughFunction(box, ['start', 'api']);
    expect(started.status, started.stderr).to.equal(0);
    source = join(box.blastHome, 'envs', 'api');
    const python = join(source, 'bin', 'python');
    // alpha has a console script and a file larger than a chunk.
    buildWheel(python, wheels, 'alpha', '1.0', { script: 'alpha', random: { 'alpha/blob.bin': 20_000 } });
    buildWheel(python, wheels, 'beta', '1.0');
    buildWheel(python, wheels, 'beta', '2.0');
    pip(box, source, 'install', 'alpha==1.0', 'beta==1.0');
  });

  after(async () => {
    box?.cleanup();
    for (const b of boxes) b.cleanup();
    await registry?.stop();
  });

  let first: Pushed;
  let second: Pushed;
  it('push uploads one layer per distribution, the config and the manifest', () => {
    first = ok<Pushed>(box, ['push', '--path', source, '--insecure', ref('team/api', 'v1')]);
    expect(first.uploaded.map((u) => u.what).sort()).to.deep.equal([
      'alpha 1.0',
      'beta 1.0',
      'config',
      'manifest',
    ]);
    expect(first.skipped).to.deep.equal([]);
    expect(first.bytesUploaded).to.equal(first.uploaded.reduce((n, u) => n + u.size, 0));
  });

  it("pull into a fresh BLAST_HOME: identical freeze, this machine's shebangs, nothing of the pushing machine", () => {
    const b = fresh();
    const pulled = ok<Pulled>(b, ['pull', '--insecure', ref('team/api', 'v1')]);
    expect(pulled.created).to.equal(true);
    expect(pulled.env).to.equal(join(b.blastHome, 'envs', 'api'));
    expect(freeze(b, pulled.env)).to.equal(freeze(box, source));
    const script = join(pulled.env, 'bin', 'alpha');
    expect(readFileSync(script, 'utf8').split('\n').slice(0, 3).join('\n')).to.include(
      join(pulled.env, 'bin', 'python'),
    );
    expect(execFileSync(script, { encoding: 'utf8' }).trim()).to.equal('alpha 1.0 works');
    expect(filesHolding(pulled.env, box.root)).to.deep.equal([]);
    // pip's own RECORD check: every RECORD line of the script is right for this machine's bytes.
    const record = readFileSync(
      join(
        pulled.env,
        'lib',
        readdirSync(join(pulled.env, 'lib'))[0]!,
        'site-packages',
        'alpha-1.0.dist-info',
        'RECORD',
      ),
      'utf8',
    );
    const line = record.split('\n').find((l) => l.startsWith('../../../bin/alpha,'))!;
    expect(line.split(',')[1]).to.equal(
      `sha256=${createHash('sha256').update(readFileSync(script)).digest('base64url')}`,
    );
    // Later, offline: `blast load v1` brings it back from the store.
    pip(b, pulled.env, 'install', 'beta==2.0');
    const loaded = run(b, ['load', pulled.snapshot, '--env', 'api'], { PIP_FIND_LINKS: '/nonexistent' });
    expect(loaded.status, loaded.stderr).to.equal(0);
    expect(freeze(b, pulled.env)).to.equal(freeze(box, source));
  });

  it('a second push after one package changed uploads only its layer, the config and the manifest', () => {
    pip(box, source, 'install', 'beta==2.0');
    second = ok<Pushed>(box, ['push', '--path', source, '--insecure', ref('team/api', 'v2')]);
    expect(second.uploaded.map((u) => u.what).sort()).to.deep.equal(['beta 2.0', 'config', 'manifest']);
    expect(second.skipped.map((s) => s.what)).to.deep.equal(['alpha 1.0']);
    expect(second.bytesUploaded).to.equal(second.uploaded.reduce((n, u) => n + u.size, 0));
    const alpha = first.uploaded.find((u) => u.what === 'alpha 1.0')!;
    expect(second.bytesUploaded).to.be.below(first.bytesUploaded - alpha.size + 1);
    // A named snapshot of the same state: every layer is there already.
    const saved = run(box, ['save', '--path', source, 'known-good']);
    expect(saved.status, saved.stderr).to.equal(0);
    const named = ok<Pushed>(box, [
      'push',
      '--path',
      source,
      '--insecure',
      'known-good',
      ref('team/api', 'known-good'),
    ]);
    expect(named.skipped.map((s) => s.what).sort()).to.deep.equal(['alpha 1.0', 'beta 2.0']);
    expect(named.uploaded.map((u) => u.what)).to.deep.equal(['config', 'manifest']);
    // Another repository of the same registry: mounted, not uploaded.
    const other = ok<Pushed>(box, ['push', '--path', source, '--insecure', ref('team/other', 'v2')]);
    expect(other.mounted.map((m) => m.what).sort()).to.deep.equal(['alpha 1.0', 'beta 2.0']);
    expect(other.uploaded.map((u) => u.what)).to.deep.equal(['config', 'manifest']);
  });

  it('an interrupted pull (kill -9) is taken up by the next one without fetching again what it had', () => {
    const b = fresh();
    const killed = run(b, ['pull', '--insecure', ref('team/api', 'v2'), '--json'], {
      BLAST_TEST_CRASH_AT: 'pull-blob-fetched',
    });
    expect(killed.status, killed.stderr).to.not.equal(0);
    expect(existsSync(join(b.blastHome, 'envs', 'api'))).to.equal(false);
    // A kill in the middle of linking the environment, too.
    const killed2 = run(b, ['pull', '--insecure', ref('team/api', 'v2'), '--json'], {
      BLAST_TEST_CRASH_AT: 'restore-linking',
    });
    expect(killed2.status, killed2.stderr).to.not.equal(0);
    const pulled = ok<Pulled>(b, ['pull', '--insecure', ref('team/api', 'v2')]);
    expect(pulled.fetched).to.deep.equal([]);
    expect(freeze(b, pulled.env)).to.equal(freeze(box, source));
  });

  it('pull resumes from a verified blob a killed pull left; blast clean removes a half-fetched one', () => {
    const b = fresh();
    const tmp = join(b.blastHome, 'store', 'oci', 'tmp');
    const half = run(b, ['pull', '--insecure', ref('team/api', 'v2'), '--json'], {
      BLAST_TEST_CRASH_AT: 'pull-blob-fetching',
    });
    expect(half.status).to.not.equal(0);
    expect(readdirSync(tmp)).to.have.length(1);
    const cleaned = run(b, ['clean']);
    expect(cleaned.status, cleaned.stderr).to.equal(0);
    expect(readdirSync(tmp)).to.deep.equal([]);
    const killed = run(b, ['pull', '--insecure', ref('team/api', 'v2'), '--json'], {
      BLAST_TEST_CRASH_AT: 'pull-blob-fetched',
    });
    expect(killed.status).to.not.equal(0);
    const pulled = ok<Pulled>(b, ['pull', '--insecure', ref('team/api', 'v2')]);
    expect(pulled.fetched.length).to.equal(1);
    expect(pulled.present.length).to.equal(1);
    expect(freeze(b, pulled.env)).to.equal(freeze(box, source));
  });

  it('--lock-only writes the pylock.toml, which pip installs from (through blast load --lock)', () => {
    const b = fresh();
    const lock = join(b.root, 'pylock.toml');
    const out = ok<{ lock: string }>(b, [
      'pull',
      '--lock-only',
      '--insecure',
      ref('team/api', 'v2'),
      '--output',
      lock,
    ]);
    expect(out.lock).to.equal(lock);
    const doc = parse(readFileSync(lock, 'utf8')) as { packages: { name: string; version: string }[] };
    expect(doc.packages.map((p) => `${p.name} ${p.version}`)).to.deep.equal(['alpha 1.0', 'beta 2.0']);
    expect(existsSync(join(b.blastHome, 'envs'))).to.equal(false);
    const started = throughFunction(b, ['start', 'plain']);
    expect(started.status, started.stderr).to.equal(0);
    const env = join(b.blastHome, 'envs', 'plain');
    const loaded = run(b, ['load', '--path', env, '--lock', lock]);
    expect(loaded.status, loaded.stderr).to.equal(0);
    expect(dists(b, env)).to.deep.equal(['alpha 1.0', 'beta 2.0']);
  });

  it('an environment of another Python minor is refused, naming the Python the artifact needs', () => {
    const b = fresh();
    const pushed = readFileSync(join(source, 'pyvenv.cfg'), 'utf8').match(/^version\s*=\s*(\d+\.\d+)/m)![1]!;
    const other = ['3.12', '3.11', '3.13', '3.10'].find((v) => v !== pushed)!;
    const started = throughFunction(b, ['start', 'other', '--python', other]);
    expect(started.status, started.stderr).to.equal(0);
    const env = join(b.blastHome, 'envs', 'other');
    const before = freeze(b, env);
    const r = run(b, ['pull', '--insecure', ref('team/api', 'v2'), 'other']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include(`needs Python ${pushed}`);
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(freeze(b, env)).to.equal(before);
  });

  it('a tampered blob is refused on pull, and nothing is changed', () => {
    const alpha = first.uploaded.find((u) => u.what === 'alpha 1.0')!;
    const file = registry.blobFile(alpha.digest);
    const bytes = readFileSync(file);
    const at = bytes.length - 2000;
    bytes[at] = bytes[at]! ^ 0xff; // same size, other bytes
    writeFileSync(file, bytes);
    const b = fresh();
    const r = run(b, ['pull', '--insecure', ref('team/api', 'v1')]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include(`blob ${alpha.digest}`);
    expect(r.stderr).to.include('not what its digest says');
    expect(existsSync(join(b.blastHome, 'envs', 'api'))).to.equal(false);
    expect(existsSync(join(b.blastHome, 'store', 'objects'))).to.equal(false);
  });
});

describe('blast push / pull with registry credentials (htpasswd)', function () {
  this.timeout(300_000);
  let registry: TestRegistry;
  let box: Sandbox;
  let source: string;
  let wheels: string;

  before(async () => {
    registry = await startRegistry({ users: { ci: 'right horse battery' } });
    box = sandbox();
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const started = throughFunction(box, ['start', 'svc']);
    expect(started.status, started.stderr).to.equal(0);
    source = join(box.blastHome, 'envs', 'svc');
    buildWheel(join(source, 'bin', 'python'), wheels, 'gamma', '1.0');
    execFileSync(join(source, 'bin', 'python'), ['-m', 'pip', 'install', 'gamma==1.0'], {
      env: { ...isolatedPipEnv(box.env), PIP_NO_INDEX: '1', PIP_FIND_LINKS: pathToFileURL(wheels).href },
      stdio: 'ignore',
    });
  });

  after(async () => {
    box?.cleanup();
    await registry?.stop();
  });

  const env = (b = box) => ({
    ...(isolatedPipEnv(b.env) as Record<string, string>),
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: pathToFileURL(wheels).href,
  });
  const ref = () => `${registry.host}/team/svc:v1`;

  it('no credentials, and wrong ones, are clear errors', () => {
    const none = blast(box, ['push', '--path', source, '--insecure', ref()], { env: env() });
    expect(none.status, none.stderr).to.equal(1);
    expect(none.stderr).to.include('needs credentials');
    const wrong = blast(
      box,
      ['push', '--path', source, '--insecure', '--username', 'ci', '--password-stdin', ref()],
      {
        env: env(),
        input: 'wrong horse\n',
      },
    );
    expect(wrong.status, wrong.stderr).to.equal(1);
    expect(wrong.stderr).to.include('refused the credentials of ci');
    expect(wrong.stderr).not.to.match(/\n\s+at /);
  });

  it("--username/--password-stdin pushes; Docker's config.json pulls", () => {
    const pushed = blast(
      box,
      ['push', '--path', source, '--insecure', '--username', 'ci', '--password-stdin', ref(), '--json'],
      {
        env: env(),
        input: 'right horse battery\n',
      },
    );
    expect(pushed.status, pushed.stderr + pushed.stdout).to.equal(0);
    const b = sandbox();
    try {
      mkdirSync(join(b.home, '.docker'));
      const auth = Buffer.from('ci:right horse battery').toString('base64');
      writeFileSync(
        join(b.home, '.docker', 'config.json'),
        JSON.stringify({ auths: { [registry.host]: { auth } } }),
      );
      const pulled = blast(b, ['pull', '--insecure', ref(), '--json'], { env: env(b) });
      expect(pulled.status, pulled.stderr + pulled.stdout).to.equal(0);
      expect((JSON.parse(pulled.stdout) as Pulled).created).to.equal(true);
    } finally {
      b.cleanup();
    }
  });

  it("a credential helper named by Docker's config.json (credHelpers, credsStore) gives the credentials", () => {
    const b = sandbox();
    try {
      const bin = join(b.root, 'helpers');
      mkdirSync(bin);
      // As docker-credential-* helpers do: the server on stdin, JSON on stdout, non-zero when unknown.
      const helper = join(bin, 'docker-credential-blasttest');
      writeFileSync(
        helper,
        `#!/bin/sh\nread server\n[ "$server" = "${registry.host}" ] || { echo "credentials not found" >&2; exit 1; }\n` +
          `printf '{"ServerURL":"%s","Username":"ci","Secret":"right horse battery"}' "$server"\n`,
        { mode: 0o755 },
      );
      mkdirSync(join(b.home, '.docker'));
      const config = join(b.home, '.docker', 'config.json');
      const path = { PATH: `${bin}:${b.env.PATH}` };
      for (const docker of [{ credHelpers: { [registry.host]: 'blasttest' } }, { credsStore: 'blasttest' }]) {
        writeFileSync(config, JSON.stringify(docker));
        const pulled = blast(b, ['pull', '--insecure', ref(), '--json'], { env: { ...env(b), ...path } });
        expect(pulled.status, pulled.stderr + pulled.stdout).to.equal(0);
      }
      writeFileSync(config, JSON.stringify({ credsStore: 'missing-helper' }));
      const missing = blast(b, ['pull', '--insecure', ref()], { env: { ...env(b), ...path } });
      expect(missing.status).to.equal(1);
      expect(missing.stderr).to.include('docker-credential-missing-helper');
    } finally {
      b.cleanup();
    }
  });
});

describe("blast push / pull with the distribution spec's token authentication (Bearer)", function () {
  this.timeout(300_000);
  let registry: TestRegistry;
  let box: Sandbox;
  let source: string;
  let wheels: string;

  before(async () => {
    registry = await startRegistry({ token: true, users: { ci: 'token pass' } });
    box = sandbox();
    wheels = join(box.root, 'wheels');
    mkdirSync(wheels);
    const started = throughFunction(box, ['start', 'tok']);
    expect(started.status, started.stderr).to.equal(0);
    source = join(box.blastHome, 'envs', 'tok');
    buildWheel(join(source, 'bin', 'python'), wheels, 'delta', '1.0');
    execFileSync(join(source, 'bin', 'python'), ['-m', 'pip', 'install', 'delta==1.0'], {
      env: { ...isolatedPipEnv(box.env), PIP_NO_INDEX: '1', PIP_FIND_LINKS: pathToFileURL(wheels).href },
      stdio: 'ignore',
    });
  });

  after(async () => {
    box?.cleanup();
    await registry?.stop();
  });

  it('gets a token from the realm with the credentials, and says so when the token service refuses them', () => {
    const env = {
      ...(isolatedPipEnv(box.env) as Record<string, string>),
      PIP_NO_INDEX: '1',
      PIP_FIND_LINKS: pathToFileURL(wheels).href,
    };
    const ref = `${registry.host}/team/tok:v1`;
    const args = [
      'push',
      '--path',
      source,
      '--insecure',
      '--username',
      'ci',
      '--password-stdin',
      ref,
      '--json',
    ];
    const wrong = blast(box, args, { env, input: 'not it\n' });
    expect(wrong.status, wrong.stdout).to.equal(1);
    expect(wrong.stdout).to.include('refused the credentials of ci');
    const pushed = blast(box, args, { env, input: 'token pass\n' });
    expect(pushed.status, pushed.stderr + pushed.stdout).to.equal(0);
    const pulled = blast(
      box,
      ['pull', '--insecure', '--username', 'ci', '--password-stdin', ref, 'copy', '--json'],
      {
        env,
        input: 'token pass\n',
      },
    );
    expect(pulled.status, pulled.stderr + pulled.stdout).to.equal(0);
    expect((JSON.parse(pulled.stdout) as Pulled).fetched).to.have.length(0); // one store: nothing to fetch
  });
});

describe('OCI references and --insecure', () => {
  it('parses references as Docker does', () => {
    expect(parseReference('ghcr.io/acme/api:2026-12')).to.deep.equal({
      registry: 'ghcr.io',
      repository: 'acme/api',
      tag: '2026-12',
    });
    expect(parseReference('localhost:5000/team/api')).to.deep.equal({
      registry: 'localhost:5000',
      repository: 'team/api',
      tag: 'latest',
    });
    expect(parseReference('python')).to.deep.equal({
      registry: 'docker.io',
      repository: 'library/python',
      tag: 'latest',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`reg.example/a/b@${digest}`)).to.deep.equal({
      registry: 'reg.example',
      repository: 'a/b',
      digest,
    });
    for (const bad of [
      'https://reg.example/a:b',
      'reg.example/A/b:1',
      'reg.example/a/b:bad tag',
      'a@sha256:12',
    ])
      expect(() => parseReference(bad), bad).to.throw(/is not an OCI reference/);
  });

  it('--insecure (plain HTTP) is refused for a registry that is not on this machine', () => {
    const b = sandbox();
    try {
      const r = blast(b, ['pull', '--insecure', 'registry.example/team/api:main']);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.include('--insecure (plain HTTP) is only allowed for a registry on this machine');
    } finally {
      b.cleanup();
    }
  });
});
