/**
 * The core's own checks for `blast check`: the registry is readable, registry and disk agree, and
 * every environment's pyvenv.cfg is sound and its Python runs as that environment. Plugins add
 * theirs through the `check` event.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { CheckResult, EnvInfo } from './hooks.js';
import { pathExists } from './path-exists.js';
import { messageOf } from './errors.js';
import {
  CONFIG_FILE,
  type EnvConfig,
  infoOf,
  readEnvConfig,
  withSettings,
  writeEnvConfig,
} from './env-config.js';
import { blastHome, type Env, envsDir } from './paths.js';
import {
  type EnvRecord,
  readRegistryQuietly,
  RegistryDamagedError,
  setAsideRegistry,
  withRegistry,
} from './registry.js';
import { diskIsFull, freeText, isDiskFull } from './disk-full.js';
import { RESERVE_BYTES } from './store/pending.js';
import { readVenv, type VenvInfo } from './venv/index.js';
import { interruptedChange, recoverAll } from './store/index.js';

const run = promisify(execFile);

async function checkEnvironment(info: EnvInfo): Promise<CheckResult[]> {
  const env = info.name;
  if (!(await pathExists(info.path))) {
    return [
      {
        name: 'environment exists',
        status: 'fail',
        env,
        message: `${info.path} is gone`,
        fix: 'forget it in the registry',
      },
    ];
  }
  let cfg: VenvInfo;
  try {
    cfg = readVenv(info.path);
  } catch (error) {
    return [{ name: 'pyvenv.cfg valid', status: 'fail', env, message: messageOf(error) }];
  }
  const results: CheckResult[] = [
    { name: 'pyvenv.cfg valid', status: 'ok', env, message: `home = ${cfg.home}` },
  ];
  const python = join(info.path, 'bin', 'python');
  try {
    const { stdout } = await run(
      python,
      ['-c', 'import sys; print(sys.prefix); print(sys.version.split()[0])'],
      { timeout: 15_000 },
    );
    const [prefix, version] = stdout.split('\n');
    if (prefix !== info.path) {
      results.push({
        name: 'python runs',
        status: 'fail',
        env,
        message: `bin/python runs with prefix ${prefix}, not the environment`,
      });
    } else {
      results.push({ name: 'python runs', status: 'ok', env, message: `Python ${version}` });
    }
  } catch (error) {
    results.push({
      name: 'python runs',
      status: 'fail',
      env,
      message: `bin/python does not run: ${messageOf(error).split('\n')[0]} (was its interpreter ${cfg.home} removed?)`,
    });
  }
  results.push(...(await scriptsCheck(info)));
  return results;
}

/**
 * The Python a script in bin/ runs (pip and every console script name theirs by absolute path:
 * a `#!` line, or distlib's `#!/bin/sh` + `'''exec' "PATH"` for paths with spaces), when it names
 * one by absolute path.
 */
async function scriptPython(file: string): Promise<string | undefined> {
  let head: string;
  try {
    const handle = await open(file, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(1024), 0, 1024, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined; // a directory or unreadable: not a script
  }
  const plain = /^#!(\/\S*\/python[\d.]*)\n/.exec(head);
  if (plain) return plain[1];
  const exec = /^#!\/bin\/sh\n'''exec' (?:"([^"]+)"|'([^']+)')/.exec(head);
  return exec?.[1] ?? exec?.[2];
}

/**
 * A venv copied or moved on disk keeps scripts that run the original's Python: `pip` in the copy
 * installs into the original. Venvs are not relocatable (the venv docs say so), and rewriting the
 * scripts would not fix what pip recorded, so this is reported, not repaired.
 */
async function scriptsCheck(info: EnvInfo): Promise<CheckResult[]> {
  const bin = join(info.path, 'bin');
  const names = await readdir(bin).catch(() => [] as string[]);
  const elsewhere: Array<[string, string]> = [];
  for (const name of names.sort()) {
    const python = await scriptPython(join(bin, name));
    if (python && dirname(dirname(python)) !== info.path) elsewhere.push([name, python]);
  }
  if (elsewhere.length === 0) return [];
  const [[first, python]] = elsewhere as [[string, string]];
  const others = elsewhere.length > 1 ? ` (and ${elsewhere.length - 1} more script(s))` : '';
  return [
    {
      name: 'scripts run this environment',
      status: 'warn',
      env: info.name,
      message:
        `bin/${first} runs ${python}${others}, not this environment's Python: it was copied or moved, ` +
        `and they act on the original. Recreate it, or use \`python -m pip\` rather than \`pip\``,
    },
  ];
}

/** A restore or pip transaction a kill -9 left half done (the next Blast command would recover it too). */
function interruptedCheck(info: EnvInfo, env: Env): CheckResult[] {
  const name = 'no interrupted change';
  let found;
  try {
    found = interruptedChange(info.path, env);
  } catch (error) {
    return [{ name, status: 'fail', env: info.name, message: messageOf(error) }];
  }
  if (!found) return [];
  if (found.running) return [{ name, status: 'warn', env: info.name, message: found.message }];
  return [
    {
      name,
      status: 'fail',
      env: info.name,
      message: found.message,
      fix: 'finish it (past its commit point) or undo it',
      repair: async () => {
        const recovery = recoverAll(info.path, { env });
        if (recovery.busy) throw new Error(recovery.busy);
      },
    },
  ];
}

export interface CoreChecks {
  results: CheckResult[];
  /** The environments the registry knows, for plugins' checks. */
  envs: EnvInfo[];
}

/**
 * The registry's records, and how reading them went. nedb's load rewrites the file, which a full
 * disk refuses: that is a warning (the registry is fine, and is read without writing instead),
 * never "damaged". Only content that does not parse is damage, and only damage is set aside.
 */
async function registryCheck(env: Env): Promise<{ records?: EnvRecord[]; result: CheckResult }> {
  const name = 'registry readable';
  try {
    const records = await withRegistry(env, (tx) => tx.all());
    return { records, result: { name, status: 'ok', message: `${records.length} environment(s)` } };
  } catch (error) {
    if (error instanceof RegistryDamagedError)
      return {
        result: {
          name,
          status: 'fail',
          message: messageOf(error),
          fix: 'set the damaged registry aside and rebuild it from the environments on disk',
          repair: async () => {
            await setAsideRegistry(env);
            await registerFromDisk(env);
          },
        },
      };
    if (!isDiskFull(error)) return { result: { name, status: 'fail', message: messageOf(error) } };
    const message = `${messageOf(error)}; its content is intact (read without writing)`;
    try {
      const { records } = await readRegistryQuietly(env);
      return { records, result: { name, status: 'warn', message } };
    } catch (inner) {
      return { result: { name, status: 'fail', message: messageOf(inner) } };
    }
  }
}

/**
 * Room on the file systems Blast writes to: a pip transaction holds RESERVE_BYTES for its
 * rollback, so less than that free is a full disk, said plainly before a command trips on it.
 */
function diskSpaceCheck(env: Env, paths: string[]): CheckResult[] {
  const seen = new Set<number>();
  const full: string[] = [];
  for (const path of [blastHome(env), ...paths]) {
    let dev: number;
    try {
      dev = statSync(path).dev;
    } catch {
      continue;
    }
    if (seen.has(dev)) continue;
    seen.add(dev);
    if (diskIsFull(path, RESERVE_BYTES)) full.push(`${path}${freeText(path)}`);
  }
  const name = 'disk space';
  if (full.length === 0)
    return [{ name, status: 'ok', message: 'room for a pip transaction and its rollback' }];
  return [
    {
      name,
      status: 'warn',
      message: `disk full: ${full.join(', ')}; pip transactions, snapshots and revisions cannot be written until space is freed there`,
    },
  ];
}

export async function coreChecks(env: Env): Promise<CoreChecks> {
  const registry = await registryCheck(env);
  const records = registry.records;
  if (!records) return { envs: [], results: [registry.result, ...diskSpaceCheck(env, [])] };
  const results: CheckResult[] = [
    registry.result,
    ...diskSpaceCheck(
      env,
      records.map((r) => r.path),
    ),
  ];
  const infos = await withSettings(records);
  const perEnv = await Promise.all(
    infos.map(async (info) => [...(await checkEnvironment(info)), ...interruptedCheck(info, env)]),
  );
  for (const [i, checks] of perEnv.entries()) {
    const record = records[i]!;
    for (const check of checks) {
      if (check.name === 'environment exists') {
        check.repair = async () => void (await withRegistry(env, (tx) => tx.remove(record.path)));
      }
      results.push(check);
    }
  }
  for (const record of records) results.push(...(await namedAfterFolder(env, record)));
  const unregistered = await unregisteredNamed(env, records);
  for (const { info, config } of unregistered) {
    const renamed = config.name !== info.name;
    results.push({
      name: 'registry and disk agree',
      status: 'warn',
      env: info.name,
      message:
        `${info.path} is a Blast environment the registry does not list` +
        (renamed ? ` (its ${CONFIG_FILE} still says ${JSON.stringify(config.name)}: copied or moved?)` : ''),
      fix: renamed
        ? `register it as ${info.name} and write that name into its ${CONFIG_FILE}`
        : 'register it',
      repair: () => register(env, info, config),
    });
  }
  if (unregistered.length === 0)
    results.push({
      name: 'registry and disk agree',
      status: 'ok',
      message: 'every named environment is registered',
    });
  return { results, envs: infos };
}

/**
 * A named environment is named by its folder under BLAST_HOME/envs: that is what `blast start
 * NAME` finds. A copied or renamed folder carries the old name in its blast.json, and a registry
 * entry made from that file carries it too; both are reported and --fix renames them.
 */
async function namedAfterFolder(env: Env, record: EnvRecord): Promise<CheckResult[]> {
  if (record.kind !== 'named') return [];
  const folder = basename(record.path);
  const config = await readEnvConfig(record.path).catch(() => undefined);
  const wrong = [
    ...(record.name !== folder ? [`the registry says ${JSON.stringify(record.name)}`] : []),
    ...(config && config.name !== folder ? [`its ${CONFIG_FILE} says ${JSON.stringify(config.name)}`] : []),
  ];
  if (wrong.length === 0) return [];
  return [
    {
      name: 'named after its folder',
      status: 'warn',
      env: folder,
      message: `${record.path} is ${folder}, but ${wrong.join(' and ')}`,
      fix: `rename it ${folder} there`,
      repair: async () => {
        if (config && config.name !== folder) await writeEnvConfig(record.path, { ...config, name: folder });
        if (record.name !== folder) await withRegistry(env, (tx) => tx.put({ ...record, name: folder }));
      },
    },
  ];
}

interface OnDisk {
  /** What it is, named after its folder. */
  info: EnvInfo;
  config: EnvConfig;
}

/** Named environments on disk (they carry blast.json) that the registry lacks. */
async function unregisteredNamed(env: Env, records: EnvRecord[]): Promise<OnDisk[]> {
  const known = new Set(records.map((r) => r.path));
  const dir = envsDir(env);
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: OnDisk[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (known.has(path) || name.startsWith('.')) continue;
    const config = await readEnvConfig(path).catch(() => undefined);
    if (config && (await pathExists(join(path, CONFIG_FILE))))
      found.push({ info: { ...infoOf(path, config), name, kind: 'named' }, config });
  }
  return found;
}

/**
 * Register an environment found on disk under its folder's name; its blast.json is rewritten
 * (atomically) first when it carries another, so file and registry agree.
 */
async function register(env: Env, info: EnvInfo, config: EnvConfig): Promise<void> {
  if (config.name !== info.name || config.kind !== 'named')
    await writeEnvConfig(info.path, { ...config, name: info.name, kind: 'named' });
  await withRegistry(env, (tx) => tx.put({ ...info, createdAt: config.createdAt }));
}

async function registerFromDisk(env: Env): Promise<void> {
  for (const { info, config } of await unregisteredNamed(env, [])) await register(env, info, config);
}
