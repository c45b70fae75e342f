/**
 * `blast pull`: an artifact `blast push` made, into an environment of this machine.
 *
 *   1. the manifest and the config, verified by digest (the manifest by the digest asked for, or
 *      the one the registry says); `--lock-only` stops here with the config's pylock.toml;
 *   2. the environment: an existing one must have the artifact's Python minor version, a new one
 *      is created with this machine's matching Python (discovered as `blast start --python X.Y`);
 *   3. the layers the store lacks, each downloaded to a temporary file, hashed on the way and
 *      renamed into `<store>/oci/blobs/` only when it is its digest; only when every one is there
 *      are they unpacked into objects (each file checked against the config). A tampered blob
 *      stops the pull before anything changed; a killed pull leaves only verified blobs and
 *      objects, which the next pull uses instead of fetching them again;
 *   4. every distribution's wheel tags checked against this Python's, then one journaled restore
 *      (the same transaction as `blast load`: preInstall/postInstall, kill -9 finished or undone)
 *      with console scripts written for this machine; the result is saved as a snapshot named
 *      after the tag, so `blast load TAG` brings it back offline later.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatBytes } from '../envs/disk-usage.js';
import { changeEnvConfig } from '../envs/config.js';
import { createEnv, loadEnv, type Loaded, planCreation, resolveTarget } from '../envs/environments.js';
import { BlastError, ExitCode, isBlastError } from '../cli/errors.js';
import type { Env } from '../paths.js';
import {
  hashFile,
  latestManifest,
  type Manifest,
  type ObjectStore,
  recoverEnv,
  type RestoreResult,
  saveManifest,
  sitePackagesOf,
  snapshotEnv,
  withEnvLockAsync,
} from '../store/index.js';
import { crashPoint } from '../store/crash.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { tempName } from '../store/objects.js';
import { runTasks, type TaskStep } from '../cli/tasks.js';
import type { TransactionHooks } from '../transaction/index.js';
import { restoreTransaction } from '../transaction/restore.js';
import { readVenv } from '../venv/cfg.js';
import {
  CONFIG_TYPE,
  type ConfigDist,
  localDist,
  parseConfig,
  SNAPSHOT_TYPE,
  type SnapshotConfig,
  storeHas,
  storeLayer,
} from './artifact.js';
import { type ClientOptions, type Descriptor, MANIFEST_TYPE, readSmall, RegistryClient } from './client.js';
import { blobPath, blobsDir, ociTemp, rememberBlobs } from './local.js';
import { formatReference, manifestReference, type Reference } from './reference.js';

export interface PullOptions {
  ref: Reference;
  /** The environment to create or update (default: the repository's last component). */
  name?: string;
  client: ClientOptions;
  store: ObjectStore;
  env: Env;
  cwd: string;
  json: boolean;
  hooks: TransactionHooks;
  interactive: boolean;
}

export interface PulledBlob {
  digest: string;
  size: number;
  what: string;
}

export interface PullResult {
  ref: string;
  digest: string;
  env: string;
  name: string;
  created: boolean;
  python: string;
  /** The local snapshot it was saved as (`blast load NAME`). */
  snapshot: string;
  distributions: string[];
  fetched: PulledBlob[];
  /** Layers whose files the store had already, or that an interrupted pull had fetched. */
  present: PulledBlob[];
  bytesFetched: number;
  restore: RestoreResult;
}

interface Artifact {
  digest: string;
  config: SnapshotConfig;
  /** Each layer's size, as the manifest says (a download longer than that is refused). */
  sizes: Map<string, number>;
}

/** The manifest and config of `ref`, verified; a BlastError when it is not a Blast snapshot. */
async function readArtifact(client: RegistryClient, ref: Reference, store: ObjectStore): Promise<Artifact> {
  const where = formatReference(ref);
  const got = await client.getManifest(manifestReference(ref));
  let manifest: { mediaType?: string; artifactType?: string; config?: Descriptor; layers?: Descriptor[] };
  try {
    manifest = JSON.parse(got.bytes.toString('utf8')) as typeof manifest;
  } catch {
    manifest = {};
  }
  const type = manifest.artifactType ?? manifest.config?.mediaType;
  if (
    (manifest.mediaType ?? got.mediaType) !== MANIFEST_TYPE ||
    (type !== SNAPSHOT_TYPE && type !== CONFIG_TYPE)
  ) {
    throw new BlastError(
      `${where} is not a Blast snapshot (it is ${type ?? manifest.mediaType ?? got.mediaType ?? 'of no known type'}).`,
      ExitCode.usage,
      '`blast pull` takes what `blast push` pushed.',
    );
  }
  const c = manifest.config!;
  if (typeof c.size !== 'number' || c.size > 64 << 20)
    throw new BlastError(`${where}'s config is too large to be a snapshot's.`);
  const file = tempName(ociTemp(store));
  try {
    await client.fetchBlob(c.digest, c.size, file);
    const config = parseConfig(readSmall(file, c.size), where);
    const sizes = new Map(
      (manifest.layers ?? [])
        .filter((l) => Number.isInteger(l.size) && l.size >= 0)
        .map((l) => [l.digest, l.size]),
    );
    const stray = config.distributions.find((d) => !sizes.has(d.layer));
    if (stray)
      throw new BlastError(
        `${where}'s config names a layer for ${stray.name} its manifest lacks; nothing was changed.`,
      );
    return { digest: got.digest, config, sizes };
  } finally {
    rmSync(file, { force: true });
  }
}

export interface LockPulled {
  ref: string;
  digest: string;
  lock: string;
  python: string;
  distributions: string[];
}

/** `blast pull --lock-only`: the artifact's pylock.toml written to `output`, nothing else changed. */
export async function pullLock(
  ref: Reference,
  output: string,
  client: ClientOptions,
  store: ObjectStore,
): Promise<LockPulled> {
  const artifact = await readArtifact(new RegistryClient(ref, client), ref, store);
  writeFileAtomic(output, artifact.config.pylock, { mode: 'umask' });
  return {
    ref: formatReference(ref),
    digest: artifact.digest,
    lock: output,
    python: artifact.config.python.version,
    distributions: artifact.config.distributions.map((d) => `${d.name} ${d.version}`),
  };
}

const minorOf = (version: string) => version.split('.').slice(0, 2).join('.');

/** The environment to pull into: an existing one of the right Python, or the plan for a new one. */
async function targetEnv(options: PullOptions, config: SnapshotConfig, where: string) {
  const name = options.name ?? options.ref.repository.split('/').at(-1)!;
  const ctx = { env: options.env, cwd: options.cwd };
  const target = resolveTarget(name, undefined, ctx);
  const need = minorOf(config.python.version);
  const loaded = await loadEnv(target, options.env);
  if (loaded) {
    const has = readVenv(loaded.info.path).version ?? loaded.info.python.version;
    if (minorOf(has) !== need) {
      throw new BlastError(
        `${where} needs Python ${need} (${config.python.implementation} ${config.python.version} pushed it); ${name} has Python ${has}. Nothing was changed.`,
        ExitCode.usage,
        `Pull into another environment (\`blast pull ${where} NEW-NAME\`), which is created with this machine's Python ${need}.`,
      );
    }
    return { loaded, planned: undefined, name };
  }
  try {
    const planned = await planCreation(target, need, ctx);
    if (planned.python.implementation.toLowerCase() !== config.python.implementation.toLowerCase()) {
      throw new BlastError(
        `${where} needs ${config.python.implementation} ${need}; this machine's Python ${need} is ${planned.python.implementation}.`,
        ExitCode.usage,
      );
    }
    return { loaded: undefined, planned, name };
  } catch (error) {
    if (!isBlastError(error) || /needs /.test(error.message)) throw error;
    throw new BlastError(
      `${where} needs Python ${need} (${config.python.implementation}; ${config.python.version} pushed it), and this machine has none: ${error.message} Nothing was changed.`,
      ExitCode.usage,
      `Install Python ${need} (pyenv install ${need}, your package manager), then pull again.`,
    );
  }
}

interface State {
  artifact?: Artifact;
  env?: Awaited<ReturnType<typeof targetEnv>>;
  missing?: ConfigDist[];
  loaded?: Loaded;
  result?: PullResult;
}

export async function pull(options: PullOptions): Promise<PullResult> {
  const { store, env, ref } = options;
  const where = formatReference(ref);
  const client = new RegistryClient(ref, options.client);
  const fetched: PulledBlob[] = [];
  const present: PulledBlob[] = [];
  const steps: TaskStep<State>[] = [
    {
      title: `Reading ${where}`,
      run: async (ctx) => {
        ctx.artifact = await readArtifact(client, ref, store);
        ctx.env = await targetEnv(options, ctx.artifact.config, where);
        const c = ctx.artifact.config;
        return `${where}: Python ${c.python.version}, ${c.distributions.length} distributions`;
      },
    },
    {
      title: 'Fetching the layers the store lacks',
      run: async (ctx, note) => {
        const config = ctx.artifact!.config;
        const tmp = ociTemp(store);
        mkdirSync(blobsDir(store), { recursive: true, mode: 0o700 });
        const missing: ConfigDist[] = [];
        for (const d of config.distributions) {
          const what = `${d.name} ${d.version}`;
          const blob = blobPath(store, d.layer);
          if (storeHas(store, d)) {
            present.push({ digest: d.layer, size: ctx.artifact!.sizes.get(d.layer)!, what });
            continue;
          }
          missing.push(d);
          // Fetched and verified by a pull that was killed before it unpacked it: used as it is.
          if (existsSync(blob) && `sha256:${hashFile(blob)}` === d.layer) {
            present.push({ digest: d.layer, size: ctx.artifact!.sizes.get(d.layer)!, what });
            continue;
          }
          const temp = tempName(tmp);
          let got = 0;
          try {
            await client.fetchBlob(d.layer, ctx.artifact!.sizes.get(d.layer)!, temp, (n) => {
              got += n;
              crashPoint('pull-blob-fetching');
              note(`${what}: ${formatBytes(got)} of ${formatBytes(ctx.artifact!.sizes.get(d.layer)!)}`);
            });
            renameSync(temp, blob);
          } finally {
            rmSync(temp, { force: true });
          }
          fetched.push({ digest: d.layer, size: got, what });
          note(`${what}: ${formatBytes(got)} fetched`);
          crashPoint('pull-blob-fetched');
        }
        ctx.missing = missing;
        return `Fetched ${fetched.length} layer(s), ${formatBytes(fetched.reduce((n, b) => n + b.size, 0))}; ${present.length} present already`;
      },
    },
    {
      title: 'Unpacking into the store',
      skip: (ctx) => (ctx.missing!.length ? false : 'the store has every file'),
      run: (ctx) => {
        for (const d of ctx.missing!) storeLayer(store, blobPath(store, d.layer), d);
        crashPoint('pull-stored');
        for (const d of ctx.missing!) rmSync(blobPath(store, d.layer), { force: true });
        return `Unpacked ${ctx.missing!.length} layer(s) into the store`;
      },
    },
    {
      title: 'Linking the environment',
      run: async (ctx) => {
        const config = ctx.artifact!.config;
        const planned = ctx.env!.planned;
        const loaded =
          ctx.env!.loaded ??
          (await createEnv(
            planned!,
            config.variables ?? {},
            { env, cwd: options.cwd },
            config.settings ?? {},
          ));
        ctx.loaded = loaded;
        const root = resolve(loaded.info.path);
        await checkTags(root, config, where, env, !ctx.env!.loaded);
        const snapshot = snapshotName(ref, ctx.artifact!.digest);
        const restore = await withEnvLockAsync(
          root,
          env,
          async () => {
            recoverEnv(root, { env, store });
            const current = snapshotEnv(root, { env, store, previous: latestManifest(store, root) });
            const sitePackages = sitePackagesOf(root);
            const target: Manifest = {
              ...current,
              createdAt: new Date().toISOString(),
              distributions: [
                ...current.distributions.filter((d) => d.name.toLowerCase() === 'pip'),
                ...config.distributions.map((d) =>
                  localDist(store, d, root, config.sitePackages, sitePackages),
                ),
              ],
            };
            delete target.variables;
            delete target.settings;
            if (config.variables) target.variables = config.variables;
            if (config.settings) target.settings = config.settings;
            const existing = ctx.env!.loaded;
            const tx = await restoreTransaction({
              info: loaded.info,
              manifest: target,
              source: 'load',
              record: { source: 'load', detail: `pull ${where}` },
              hooks: options.hooks,
              interactive: options.interactive,
              env,
              store,
              what: where,
              then: async () => {
                if (!existing) return;
                await changeEnvConfig(root, (c) => ({
                  ...c,
                  variables: config.variables ?? c.variables,
                  ...(config.settings ? { settings: config.settings } : {}),
                }));
              },
            });
            if (tx.exitCode !== 0 || !tx.restore) {
              if (existing) await changeEnvConfig(root, () => existing.config);
              throw new BlastError(
                `${tx.rolledBack?.reason ?? 'The restore failed'}; ${loaded.info.name} was put back as it was before the pull.`,
                ExitCode.failure,
              );
            }
            saveManifest(store, root, snapshot, target);
            return tx.restore;
          },
          { kind: 'load', what: `blast pull ${where}` },
        );
        rememberBlobs(
          store,
          ref.registry,
          ref.repository,
          config.distributions.map((d) => d.layer),
        );
        ctx.result = {
          ref: where,
          digest: ctx.artifact!.digest,
          env: root,
          name: loaded.info.name,
          created: !ctx.env!.loaded,
          python: readVenv(root).version ?? '',
          snapshot,
          distributions: config.distributions.map((d) => `${d.name} ${d.version}`),
          fetched,
          present,
          bytesFetched: fetched.reduce((n, b) => n + b.size, 0),
          restore,
        };
        return `${ctx.result.created ? 'Created' : 'Updated'} ${loaded.info.name}: ${restore.changed} paths changed; saved as snapshot ${snapshot}`;
      },
    },
  ];
  const state = await runTasks(steps, {} as State, { json: options.json, env });
  return state.result!;
}

/** The local snapshot a pull is saved as: the tag, or `sha256-<12 hex>` for a pull by digest. */
function snapshotName(ref: Reference, digest: string): string {
  return ref.tag && !ref.digest ? ref.tag : `sha256-${digest.slice(7, 19)}`;
}

/** Every distribution must have a wheel tag this environment's Python accepts. */
async function checkTags(root: string, config: SnapshotConfig, where: string, env: Env, created: boolean) {
  const { interpreterFacts } = await import('../lockfiles/interpreter.js');
  const facts = await interpreterFacts(root, { markers: [], tags: true }, env);
  const accepted = new Set(facts.tags);
  const off = config.distributions.filter((d) => d.tags.length && !d.tags.some((t) => accepted.has(t)));
  if (!off.length) return;
  throw new BlastError(
    `${where} was built for another platform: ${off
      .slice(0, 3)
      .map((d) => `${d.name} ${d.version} needs ${d.tags.join(' or ')}`)
      .join('; ')}; this Python (${facts.python}) accepts ${facts.tags[0] ?? 'no tags'} and the like. ` +
      (created ? 'The new environment was left empty.' : 'Nothing was changed.'),
    ExitCode.usage,
    'Push the snapshot from a machine of this platform, or install from its pylock.toml (`blast pull --lock-only`).',
  );
}
