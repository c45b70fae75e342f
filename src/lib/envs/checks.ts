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
import type { CheckResult, EnvInfo } from '../plugin-host/contract.js';
import { pathExists } from '../fs/path-exists.js';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import {
  changeEnvConfig,
  CONFIG_FILE,
  damagedEnvConfig,
  type EnvConfig,
  infoOf,
  readEnvConfig,
  replaceEnvConfig,
  withSettings,
} from './config.js';
import { type Env, blastHome, envsDir, stateDir } from '../paths.js';
import { makePrivate, openToOthers } from '../fs/file-modes.js';
import {
  type EnvRecord,
  readRegistryQuietly,
  RegistryDamagedError,
  setAsideRegistry,
  withRegistry,
} from './registry.js';
import { knownEnvironmentPaths } from './known-projects.js';
import { finishedRegistering } from './environments.js';
import { diskIsFull, freeText, isDiskFull } from '../fs/disk-full.js';
import { RESERVE_BYTES } from '../transaction/journal.js';
import { readVenv, type VenvInfo } from '../venv/index.js';
import {
  deepCheck,
  type DeepReport,
  fixDamaged,
  interruptedChange,
  linkModeOf,
  ObjectStore,
  orphanedHistory,
  recoverAll,
  repairHalfRestored,
  salvageEnv,
  storeDir,
} from '../store/index.js';
import { ORPHANED_WHY, revisionList } from './cleaning.js';
import { removeEnvTemps, staleEnvTemps } from '../store/env-temps.js';

import { mapBounded, processLimit } from '../bounded.js';

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
  results.push(...tempsCheck(info));
  return results;
}

/** Temporary names a killed restore left in the environment (see store/env-temps.ts). */
function tempsCheck(info: EnvInfo): CheckResult[] {
  const temps = staleEnvTemps(info.path);
  if (temps.length === 0) return [];
  const rel = temps.map((t) => t.slice(info.path.length + 1));
  return [
    {
      name: 'no leftover temporary files',
      status: 'warn',
      env: info.name,
      message: `${rel.slice(0, 3).join(', ')}${rel.length > 3 ? ` and ${rel.length - 3} more` : ''}: left by a Blast process that was killed`,
      fix: 'remove them',
      repair: async () => removeEnvTemps(temps),
    },
  ];
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
  // Three kinds of half-done change, each with its own way back; the result is the same shape.
  const { fix, repair } = found.halfRestored
    ? {
        fix: 'restore it again to the state it was being restored to (else to its latest revision)',
        repair: async () => void repairHalfRestored(info.path, { env }),
      }
    : found.unreadable
      ? {
          fix: 'set the unreadable journal aside and put back a state Blast knows: the state before the pip transaction, else the latest revision',
          repair: async () => {
            const done = salvageEnv(info.path, { env });
            process.stderr.write(`blast: ${info.name}: ${done.join('; ')}\n`);
          },
        }
      : {
          fix: 'finish it (past its commit point) or undo it',
          repair: async () => {
            const recovery = recoverAll(info.path, { env });
            if (recovery.busy) throw new Error(recovery.busy);
          },
        };
  return [{ name, status: 'fail', env: info.name, message: found.message, fix, repair }];
}

/**
 * The history of environments whose folder is gone: kept, since a folder on a disk that is not
 * mounted looks the same as one removed; reported so the user can decide. No --fix: removing it
 * is `blast clean --orphaned-history`, asked for by name.
 */
function orphanedHistoryCheck(env: Env): CheckResult[] {
  // Reading only: the link mode does not matter (and an unknown one is the link mode check's to say).
  return orphanedHistory(new ObjectStore(storeDir(env))).map((o) => ({
    name: 'orphaned history',
    status: 'warn',
    message: `${revisionList(o.numbers)} of ${o.env}: ${ORPHANED_WHY}`,
  }));
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

/**
 * The core's checks: of Blast's own state, and of every registered environment — or, with
 * `only` (`blast check NAME`), of the environments of that name alone.
 */
export async function coreChecks(env: Env, only?: string): Promise<CoreChecks> {
  const registry = await registryCheck(env);
  const records = only === undefined ? registry.records : registry.records?.filter((r) => r.name === only);
  if (only !== undefined && registry.records && records!.length === 0)
    throw new BlastError(
      `No environment named ${JSON.stringify(only)}.`,
      ExitCode.notFound,
      'See `blast list` for the names; `blast check` checks them all.',
    );
  if (!records) return { envs: [], results: [registry.result, ...diskSpaceCheck(env, [])] };
  const results: CheckResult[] = [
    registry.result,
    linkModeCheck(env),
    ...diskSpaceCheck(
      env,
      records.map((r) => r.path),
    ),
  ];
  const infos = await withSettings(records);
  // Each starts the environment's Python: bounded, so a hundred environments finish sooner.
  const perEnv = await mapBounded(infos, processLimit(), async (info) => [
    ...(await checkEnvironment(info)),
    ...interruptedCheck(info, env),
  ]);
  for (const [i, checks] of perEnv.entries()) {
    const record = records[i]!;
    for (const check of checks) {
      if (check.name === 'environment exists') {
        check.repair = async () => void (await withRegistry(env, (tx) => tx.remove(record.path)));
      }
      results.push(check);
    }
  }
  for (const record of records) results.push(...(await configCheck(record)));
  for (const record of records) results.push(...(await namedAfterFolder(env, record)));
  results.push(...orphanedHistoryCheck(env));
  results.push(privateFilesCheck(env, records));
  const missing = only === undefined ? await unregistered(env, records) : [];
  for (const { info, config } of missing) {
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
  if (missing.length === 0 && only === undefined)
    results.push({
      name: 'registry and disk agree',
      status: 'ok',
      message: 'every environment on disk is registered',
    });
  return { results, envs: infos };
}

/**
 * blast.json is read by every start and run of the environment: a damaged one blocks both, so it
 * fails here, and --fix writes it again from what the registry knows, keeping what is readable.
 */
async function configCheck(record: EnvRecord): Promise<CheckResult[]> {
  if (!(await pathExists(record.path))) return [];
  const name = `${CONFIG_FILE} readable`;
  const file = join(record.path, CONFIG_FILE);
  let damaged;
  try {
    damaged = await damagedEnvConfig(record);
  } catch (error) {
    return [{ name, status: 'fail', env: record.name, message: messageOf(error) }];
  }
  if (!damaged) return [];
  const { problem, rebuilt, dropped } = damaged;
  const kept = Object.keys(rebuilt.variables);
  return [
    {
      name,
      status: 'fail',
      env: record.name,
      message: `${file} is damaged: ${problem}`,
      fix:
        `rewrite it from the registry (Python ${rebuilt.python.version})` +
        (kept.length ? `, keeping variable(s) ${kept.join(', ')}` : '') +
        (dropped.length ? `, dropping variable(s) ${dropped.join(', ')}` : '') +
        (rebuilt.settings ? ' and the settings' : ''),
      repair: () => replaceEnvConfig(record.path, rebuilt),
    },
  ];
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
        if (config && config.name !== folder)
          await changeEnvConfig(record.path, (c) => (c.name === folder ? undefined : { ...c, name: folder }));
        if (record.name !== folder) await withRegistry(env, (tx) => tx.put({ ...record, name: folder }));
      },
    },
  ];
}

/**
 * Files that can hold a user's values (blast.json with `--env` variables, and the snapshots,
 * revisions and state made from them) readable by other users: installs made before Blast wrote
 * them 0600 in 0700 directories. --fix takes the group and other bits off.
 */
function privateFilesCheck(env: Env, records: readonly EnvRecord[]): CheckResult {
  const store = join(blastHome(env), 'store');
  // The state dir is checked itself only: what the daemon keeps in it is protected by its 0700.
  const roots: Array<[string, boolean]> = [
    ...records.map((r): [string, boolean] => [join(r.path, CONFIG_FILE), true]),
    [join(store, 'snapshots'), true],
    [join(store, 'revisions'), true],
    [stateDir(env), false],
  ];
  const find = () => roots.flatMap(([root, recursive]) => openToOthers(root, { recursive }));
  const open = find();
  const name = 'values private';
  if (open.length === 0)
    return { name, status: 'ok', message: 'variables, snapshots and revisions are readable only by you' };
  const shown = open.slice(0, 3).join(', ') + (open.length > 3 ? ` and ${open.length - 3} more` : '');
  return {
    name,
    status: 'warn',
    message: `${open.length} file(s) or folder(s) that can hold your --env values are open to other users: ${shown}`,
    fix: 'make them readable only by you (files 0600, folders 0700)',
    repair: async () => {
      for (const path of find()) makePrivate(path);
    },
  };
}

interface OnDisk {
  /** What it is, named after its folder. */
  info: EnvInfo;
  config: EnvConfig;
}

/**
 * Environments on disk (they carry blast.json) that the registry lacks: named ones under
 * BLAST_HOME/envs, and project ones at the paths Blast remembers outside the registry (see
 * known-projects.ts), which is how a rebuilt registry finds `--path` environments again.
 */
async function unregistered(env: Env, records: EnvRecord[]): Promise<OnDisk[]> {
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
  for (const path of knownEnvironmentPaths(env)) {
    if (known.has(path) || dirname(path) === dir) continue;
    const config = await readEnvConfig(path).catch(() => undefined);
    if (config?.kind === 'local' && (await pathExists(join(path, 'pyvenv.cfg'))))
      found.push({ info: infoOf(path, config), config });
  }
  return found;
}

/**
 * Register an environment found on disk (a named one under its folder's name: its blast.json is
 * rewritten, atomically, first when it carries another, so file and registry agree).
 */
async function register(env: Env, info: EnvInfo, config: EnvConfig): Promise<void> {
  if (info.kind === 'named' && (config.name !== info.name || config.kind !== 'named'))
    await changeEnvConfig(info.path, (c) =>
      c.name === info.name && c.kind === 'named' ? undefined : { ...c, name: info.name, kind: 'named' },
    );
  await withRegistry(env, (tx) => tx.put({ ...info, createdAt: config.createdAt }));
  // A creation killed before it registered leaves its marker (see environments.ts): done now.
  await finishedRegistering(info.path);
}

async function registerFromDisk(env: Env): Promise<void> {
  for (const { info, config } of await unregistered(env, [])) await register(env, info, config);
}

const SHARED_NOTE =
  "a write into an environment's file (an editor saving in place, `>>`) changes the stored copy too: " +
  'it is found before that copy is used (seals; `blast check --deep` re-hashes everything). ' +
  'BLAST_LINK_MODE=copy shares nothing';

/** The link mode (BLAST_LINK_MODE) and what it does on this store's file system. */
function linkModeCheck(env: Env): CheckResult {
  const name = 'link mode';
  let mode;
  try {
    mode = linkModeOf(env);
  } catch (error) {
    return { name, status: 'fail', message: `${messageOf(error)} Set it to auto, clone, hardlink or copy` };
  }
  const clones = new ObjectStore(storeDir(env), mode).probeClone();
  const unknown =
    clones === undefined ? ' (whether this file system clones is known once the store exists)' : '';
  switch (mode) {
    case 'copy':
      return {
        name,
        status: 'ok',
        message: 'copy: environments share no inode with the store (safe; no disk shared)',
      };
    case 'hardlink':
      return {
        name,
        status: 'ok',
        message: `hardlink: environments share inodes with the store; ${SHARED_NOTE}`,
      };
    case 'clone':
      return clones === false
        ? {
            name,
            status: 'warn',
            message:
              'clone: this file system cannot clone (copy-on-write), so files are copied instead: safe, but no disk is shared. ' +
              'BLAST_LINK_MODE=auto would hard-link here',
          }
        : { name, status: 'ok', message: `clone: copy-on-write, no inode shared with the store${unknown}` };
    default:
      return clones === false
        ? {
            name,
            status: 'ok',
            message: `auto: hardlink, as this file system cannot clone; ${SHARED_NOTE}`,
          }
        : {
            name,
            status: 'ok',
            message: `auto: clone (copy-on-write, no inode shared with the store) where the file system has it, else hardlink${unknown}`,
          };
  }
}

/**
 * `blast check --deep`: every object re-hashed; every snapshot and revision that needs a damaged
 * or missing object named by environment, since it can no longer be restored exactly.
 */
export function deepChecks(
  env: Env,
  envs: readonly EnvInfo[],
): { results: CheckResult[]; report: DeepReport } {
  const store = new ObjectStore(storeDir(env)); // hashing only: the link mode does not matter
  const report = deepCheck(store);
  const results: CheckResult[] = [];
  const damaged = report.damaged.filter((d) => d.problem !== 'mode');
  const modes = report.damaged.filter((d) => d.problem === 'mode');
  results.push(
    damaged.length
      ? {
          name: 'store objects intact',
          status: 'fail',
          message:
            `${damaged.length} of ${report.objects} objects no longer hold the bytes they are named by: ` +
            damaged
              .slice(0, 5)
              .map((d) => d.file)
              .join(', ') +
            (damaged.length > 5 ? ` and ${damaged.length - 5} more` : ''),
          fix: `move them to ${store.quarantine} (kept, never restored)`,
          repair: async () => void fixDamaged(store, damaged),
        }
      : {
          name: 'store objects intact',
          status: 'ok',
          message: `${report.objects} objects re-hashed (${(report.bytes / 2 ** 20).toFixed(1)} MiB)`,
        },
  );
  if (modes.length)
    results.push({
      name: 'store objects intact',
      status: 'warn',
      message: `${modes.length} object(s) hold the right bytes with other permission bits (a chmod of a hard-linked file): ${modes[0]!.file}`,
      fix: 'store them again with their own mode',
      repair: async () => void fixDamaged(store, modes),
    });
  const nameOf = new Map(envs.map((e) => [e.path, e.name]));
  const byEnv = new Map<string, typeof report.unrestorable>();
  for (const u of report.unrestorable) byEnv.set(u.env, [...(byEnv.get(u.env) ?? []), u]);
  for (const [path, list] of byEnv) {
    const files = [...new Map(list.flatMap((u) => u.files).map((f) => [f.path, f])).values()];
    const shown = files
      .slice(0, 3)
      .map(
        (f) =>
          `${f.path} (${f.problem === 'damaged' ? 'damaged' : f.quarantined ? 'damaged, quarantined' : 'missing'})`,
      )
      .join(', ');
    results.push({
      name: 'snapshots restorable',
      status: 'fail',
      env: nameOf.get(path) ?? path,
      message:
        `${list.map((u) => u.what).join(', ')} can no longer be restored exactly: the store's copy of ` +
        `${shown}${files.length > 3 ? ` and ${files.length - 3} more file(s)` : ''} is gone or changed. ` +
        'Reinstall with `blast load --lock FILE` or pip, then `blast save` again',
    });
  }
  if (byEnv.size === 0)
    results.push({
      name: 'snapshots restorable',
      status: 'ok',
      message: 'every snapshot and revision has all its objects, intact',
    });
  return { results, report };
}
