/**
 * `blast push`: a snapshot (a named one, or the environment's current state) as an OCI artifact
 * (artifact.ts): its layers packed from the store, then each blob sent only when the registry
 * lacks it (HEAD), mounted when another repository of the registry has it, and the manifest last,
 * so a registry never has a manifest whose blobs are missing.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EnvInfo } from '../plugin-host/contract.js';
import type { Env } from '../paths.js';
import { formatBytes } from '../envs/disk-usage.js';
import {
  latestManifest,
  loadSnapshot,
  type Manifest,
  type ObjectStore,
  recoverEnv,
  snapshotEnv,
  withEnvLockAsync,
} from '../store/index.js';
import { tempName } from '../store/objects.js';
import { runTasks, type TaskStep } from '../cli/tasks.js';
import {
  buildLayer,
  type BuiltLayer,
  CONFIG_TYPE,
  LAYER_TYPE,
  SNAPSHOT_TYPE,
  type SnapshotConfig,
} from './artifact.js';
import {
  type ClientOptions,
  type Descriptor,
  MANIFEST_TYPE,
  RegistryClient,
  sha256Digest,
  type Upload,
} from './client.js';
import { mountSource, ociTemp, rememberBlobs } from './local.js';
import { formatReference, manifestReference, type Reference } from './reference.js';

export interface PushOptions {
  info: EnvInfo;
  ref: Reference;
  /** A named snapshot of the environment; its current state when absent. */
  snapshot?: string;
  client: ClientOptions;
  store: ObjectStore;
  env: Env;
  json: boolean;
}

export interface PushedBlob {
  digest: string;
  size: number;
  /** `name version`, `config` or `manifest`. */
  what: string;
}

export interface PushResult {
  ref: string;
  digest: string;
  env: string;
  snapshot: string;
  distributions: string[];
  uploaded: PushedBlob[];
  mounted: PushedBlob[];
  /** Blobs the registry had already (HEAD). */
  skipped: PushedBlob[];
  /** Bytes sent: the uploaded blobs and the manifest. */
  bytesUploaded: number;
}

interface State {
  manifest?: Manifest;
  layers?: BuiltLayer[];
  config?: { file: string; digest: string; size: number };
  result?: PushResult;
}

export async function push(options: PushOptions): Promise<PushResult> {
  const { info, store, env, ref } = options;
  const root = resolve(info.path);
  const temps: string[] = [];
  const where = formatReference(ref);
  const steps: TaskStep<State>[] = [
    {
      title: options.snapshot
        ? `Reading snapshot ${options.snapshot} of ${info.name}`
        : `Recording ${info.name}'s distributions`,
      run: async (ctx) => {
        ctx.manifest = options.snapshot
          ? loadSnapshot(store, root, options.snapshot)
          : await withEnvLockAsync(
              root,
              env,
              async () => {
                recoverEnv(root, { env, store });
                return snapshotEnv(root, { env, store, previous: latestManifest(store, root) });
              },
              { kind: 'save' },
            );
        return `${ctx.manifest.distributions.length} distributions of ${info.name}`;
      },
    },
    {
      title: 'Locking the archives (sha256) and packing one layer per distribution',
      run: async (ctx, note) => {
        const { lockInputs, writePylock } = await import('../lockfiles/index.js');
        const m = ctx.manifest!;
        const dists = m.distributions.map((d) => ({
          name: d.name,
          version: d.version,
          distInfo: d.distInfo,
          paths: [],
        }));
        const inputs = await lockInputs(root, dists, { env, note });
        const tmp = ociTemp(store);
        const layers: BuiltLayer[] = [];
        for (const d of m.distributions) {
          if (d.name.toLowerCase() === 'pip') continue; // the environment's own installer: each machine has its own
          const layer = buildLayer(store, m.env, m.sitePackages, d, tmp);
          temps.push(layer.file);
          const locked = inputs.locked.find((l) => l.name.toLowerCase() === d.name.toLowerCase());
          const wheel = locked?.archives.find((a) => a.kind === 'wheel' && a.filename);
          if (wheel) layer.dist.wheel = { filename: wheel.filename!, sha256: wheel.sha256 };
          layers.push(layer);
        }
        ctx.layers = layers;
        const config: SnapshotConfig = {
          v: 1,
          createdAt: m.createdAt,
          snapshot: options.snapshot ?? 'current',
          python: { version: m.python, implementation: info.python.implementation },
          sitePackages: m.sitePackages,
          ...(m.variables ? { variables: m.variables } : {}),
          ...(m.settings ? { settings: m.settings } : {}),
          distributions: layers.map((l) => l.dist),
          pylock: writePylock(inputs.locked, { python: m.python }),
        };
        const bytes = Buffer.from(JSON.stringify(config, null, 1) + '\n');
        const file = tempName(tmp);
        temps.push(file);
        writeFileSync(file, bytes, { mode: 0o600 });
        ctx.config = { file, digest: sha256Digest(bytes), size: bytes.length };
        const total = layers.reduce((n, l) => n + l.size, 0);
        return `Packed ${layers.length} layer(s), ${formatBytes(total)}; locked ${inputs.locked.length} archive(s)`;
      },
    },
    {
      title: `Pushing to ${where}`,
      run: async (ctx, note) => {
        const client = new RegistryClient(ref, options.client);
        const result: PushResult = {
          ref: where,
          digest: '',
          env: root,
          snapshot: options.snapshot ?? 'current',
          distributions: ctx.layers!.map((l) => `${l.dist.name} ${l.dist.version}`),
          uploaded: [],
          mounted: [],
          skipped: [],
          bytesUploaded: 0,
        };
        const blobs = [
          ...ctx.layers!.map((l) => ({
            file: l.file,
            digest: l.dist.layer,
            size: l.size,
            what: `${l.dist.name} ${l.dist.version}`,
          })),
          { ...ctx.config!, what: 'config' },
        ];
        const done = new Set<string>();
        for (const b of blobs) {
          if (done.has(b.digest)) continue;
          done.add(b.digest);
          let sent = 0;
          const mountFrom = mountSource(store, ref.registry, ref.repository, b.digest);
          const upload: Upload = await client.pushBlob(b.file, b.digest, b.size, {
            ...(mountFrom ? { mountFrom } : {}),
            onBytes: (n) => {
              sent += n;
              note(`${b.what}: ${formatBytes(sent)} of ${formatBytes(b.size)}`);
            },
          });
          const entry = { digest: b.digest, size: b.size, what: b.what };
          if (upload === 'uploaded') {
            result.uploaded.push(entry);
            result.bytesUploaded += b.size;
            note(`${b.what}: uploaded ${formatBytes(b.size)}`);
          } else if (upload === 'mounted') {
            result.mounted.push(entry);
            note(`${b.what}: mounted from ${mountFrom}`);
          } else {
            result.skipped.push(entry);
            note(`${b.what}: already there`);
          }
        }
        const manifest = artifactManifest(ctx, options);
        result.digest = await client.putManifest(manifestReference(ref), manifest);
        result.uploaded.push({ digest: result.digest, size: manifest.length, what: 'manifest' });
        result.bytesUploaded += manifest.length;
        rememberBlobs(store, ref.registry, ref.repository, [...done]);
        ctx.result = result;
        return `Pushed ${where}@${result.digest}: ${result.uploaded.length} uploaded (${formatBytes(result.bytesUploaded)}), ${result.mounted.length} mounted, ${result.skipped.length} already there`;
      },
    },
  ];
  try {
    const state = await runTasks(steps, {} as State, { json: options.json, env });
    return state.result!;
  } finally {
    for (const t of temps) rmSync(t, { force: true });
  }
}

function artifactManifest(ctx: State, options: PushOptions): Buffer {
  const m = ctx.manifest!;
  const layers: Descriptor[] = ctx.layers!.map((l) => ({
    mediaType: LAYER_TYPE,
    digest: l.dist.layer,
    size: l.size,
    annotations: {
      'org.opencontainers.image.title': `${l.dist.name}-${l.dist.version}.tar`,
      'org.blast.distribution': `${l.dist.name} ${l.dist.version}`,
    },
  }));
  const body = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    artifactType: SNAPSHOT_TYPE,
    config: { mediaType: CONFIG_TYPE, digest: ctx.config!.digest, size: ctx.config!.size },
    layers,
    annotations: {
      'org.opencontainers.image.created': m.createdAt,
      'org.opencontainers.image.title': `${options.info.name} (${options.snapshot ?? 'current state'})`,
      'org.opencontainers.image.description': `A Blast environment snapshot: Python ${m.python}, ${layers.length} distributions; pylock.toml in the config (blast pull --lock-only).`,
      'org.blast.python': m.python,
      'org.blast.snapshot': options.snapshot ?? 'current',
      'org.blast.distributions': String(layers.length),
      'org.blast.environment': options.info.name,
    },
  };
  return Buffer.from(JSON.stringify(body));
}
