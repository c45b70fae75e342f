/**
 * The lean path for what runs most: `blast start [NAME]` and `blast kill [--force]` (the shell
 * function, every activation), `blast pip -- …` (the pip shim, every pip) and a plain `blast load`
 * (a rollback). Loading @oclif/core
 * and its config (plugin discovery, manifests, a hundred CommonJS modules) costs more than Node's
 * own start-up, which would put every activation at 3-4× a bare `node -e 0`. Here the plugins are found from the same package.json files oclif reads, and every
 * event is run as oclif's `Config.runHook` runs it (every plugin that answers is asked, in
 * parallel, one plugin's handlers in order, failures collected), so plugins see no difference.
 *
 * Anything this path does not know as oclif would is left to oclif (undefined is returned before
 * anything is done): flags beyond the plain ones, help, user or linked plugins (`blast plugins`),
 * a plugin answering one of oclif's own lifecycle events, debugging.
 */
import type { Interfaces } from '@oclif/core';
import type * as Errors from '@oclif/core/errors';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Config = Interfaces.Config;

interface HookTarget {
  target: string;
  identifier: string;
  /** The bundle scripts/bundle.js made of it, while the handler file is the one it was made from. */
  bundle?: string;
  /** The handler module's namespace in that bundle (one bundle holds a plugin's handlers). */
  bundleExport?: string;
}

interface LeanPlugin {
  name: string;
  version: string;
  root: string;
  pjson: Record<string, unknown> & { oclif?: Record<string, unknown> };
  hooks: Record<string, HookTarget[]>;
  isRoot: boolean;
  type: 'core';
  alias: string;
  commands: [];
  commandIDs: [];
  topics: [];
}

/**
 * oclif's own events around a command: a plugin answering one of them expects all of oclif, so it
 * gets oclif (the core's own `init` excepted: it needs only what this config has).
 */
const OCLIF_EVENTS = new Set(['init', 'prerun', 'preparse', 'postrun', 'finally']);

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function hooksOf(pjson: LeanPlugin['pjson']): Record<string, HookTarget[]> {
  const declared = (pjson.oclif?.hooks ?? {}) as Record<string, unknown>;
  const out: Record<string, HookTarget[]> = {};
  for (const [event, value] of Object.entries(declared)) {
    const list = Array.isArray(value) ? value : [value];
    out[event] = list.map((hook) =>
      typeof hook === 'string'
        ? { target: hook, identifier: 'default' }
        : {
            target: String((hook as { target?: unknown }).target),
            identifier: String((hook as { identifier?: unknown }).identifier ?? 'default'),
          },
    );
  }
  return out;
}

/** Whether every file a bundle was made from (relative to `base`) still has its mtime then. */
function unchanged(base: string, inputs: unknown): boolean {
  if (typeof inputs !== 'object' || inputs === null) return false;
  return Object.entries(inputs).every(
    ([file, mtimeMs]) => statSync(join(base, file), { throwIfNoEntry: false })?.mtimeMs === mtimeMs,
  );
}

/** Point each handler at its bundle (see scripts/bundle.js) while the bundle is of the files as they are. */
function withBundles(root: string, hooks: Record<string, HookTarget[]>): Record<string, HookTarget[]> {
  const map = readJson(join(root, 'dist', 'lean-hooks.json')) as
    { hooks?: Record<string, unknown>; inputs?: unknown } | undefined;
  if (!map?.hooks || !unchanged(root, map.inputs)) return hooks;
  for (const list of Object.values(hooks))
    for (const hook of list) {
      const made = map.hooks[hook.target] as { bundle?: unknown; export?: unknown } | undefined;
      if (typeof made?.bundle === 'string' && typeof made.export === 'string') {
        hook.bundle = made.bundle;
        hook.bundleExport = made.export;
      }
    }
  return hooks;
}

function plugin(root: string, pjson: LeanPlugin['pjson'], isRoot: boolean): LeanPlugin {
  const name = String(pjson.name);
  return {
    name,
    version: String(pjson.version),
    root,
    pjson,
    hooks: isRoot ? hooksOf(pjson) : withBundles(root, hooksOf(pjson)),
    isRoot,
    type: 'core',
    alias: name,
    commands: [],
    commandIDs: [],
    topics: [],
  };
}

/** oclif's data dir for this CLI (where `blast plugins` keeps user and linked plugins). */
function dataDir(bin: string, env: NodeJS.ProcessEnv): string {
  const own = env[`${bin.toUpperCase()}_DATA_DIR`];
  if (own) return own;
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share'), bin);
}

/** The plugins oclif would load, or undefined when only oclif can tell. */
function loadPlugins(root: string, env: NodeJS.ProcessEnv): Map<string, LeanPlugin> | undefined {
  const pjson = readJson(join(root, 'package.json')) as LeanPlugin['pjson'] | undefined;
  const oclif = pjson?.oclif;
  if (!pjson || !oclif || oclif.devPlugins || oclif.jitPlugins) return undefined;
  const bin = String(oclif.bin ?? pjson.name);
  const user = readJson(join(dataDir(bin, env), 'package.json')) as LeanPlugin['pjson'] | undefined;
  if (user && Array.isArray(user.oclif?.plugins) && user.oclif.plugins.length > 0) return undefined;
  const plugins = new Map<string, LeanPlugin>();
  plugins.set(String(pjson.name), plugin(root, pjson, true));
  // As oclif: the core plugins are those of oclif.plugins that are dependencies of the package.
  const dependencies = (pjson.dependencies ?? {}) as Record<string, unknown>;
  for (const name of (oclif.plugins ?? []) as unknown[]) {
    if (typeof name !== 'string' || /[*?{[]/.test(name)) return undefined;
    if (!Object.hasOwn(dependencies, name)) continue;
    const dir = join(root, 'node_modules', name);
    const own = readJson(join(dir, 'package.json')) as LeanPlugin['pjson'] | undefined;
    if (!own || own.name !== name) return undefined;
    plugins.set(name, plugin(dir, own, false));
  }
  for (const p of plugins.values())
    if (Object.keys(p.hooks).some((event) => OCLIF_EVENTS.has(event) && !(p.isRoot && event === 'init')))
      return undefined;
  return plugins;
}

/** A hook's `this`, as oclif gives it. */
function hookContext(config: Config) {
  const fail = (message: string, exit: number) => Object.assign(new Error(message), { oclif: { exit } });
  return {
    config,
    debug: () => {},
    error(message: string | Error, options: { exit?: number } = {}) {
      throw typeof message === 'string' ? fail(message, options.exit ?? 2) : message;
    },
    exit(code = 0) {
      throw fail(`EEXIT: ${code}`, code);
    },
    log(message = '', ...args: unknown[]) {
      process.stdout.write(`${[message, ...args].join(' ')}\n`);
    },
    warn: (message: string | Error) => leanWarn(message),
  };
}

const require = createRequire(import.meta.url);

/**
 * The core's own handlers, from this module's graph (so from the bundle, without a file of their
 * own to load) rather than by their path; any other handler is imported by its path as oclif does.
 */
const ROOT_HANDLERS: Record<string, () => Promise<Record<string, unknown>>> = {
  './dist/hooks/init.js': () => import('../../hooks/init.js'),
};

/** A handler's module, as oclif would import it (the core's own from this module's graph). */
async function handlerModule(p: LeanPlugin, hook: HookTarget): Promise<Record<string, unknown>> {
  const own = p.isRoot ? ROOT_HANDLERS[hook.target] : undefined;
  if (own) return own();
  const module = (await import(pathToFileURL(join(p.root, hook.bundle ?? hook.target)).href)) as Record<
    string,
    unknown
  >;
  return hook.bundleExport ? (module[hook.bundleExport] as Record<string, unknown>) : module;
}

/** oclif's own warning format (loaded only when there is one to print). */
export function leanWarn(message: string | Error): void {
  (require('@oclif/core/errors') as typeof Errors).warn(message);
}

/** A stand-in for oclif's Config with what Blast's core and its plugins' event handlers use. */
export function leanConfig(root: string, env: NodeJS.ProcessEnv = process.env): Config | undefined {
  const plugins = loadPlugins(root, env);
  if (!plugins) return undefined;
  const rootPlugin = [...plugins.values()][0]!;
  const bin = String(rootPlugin.pjson.oclif?.bin ?? rootPlugin.name);
  const config = {
    root,
    name: rootPlugin.name,
    version: rootPlugin.version,
    pjson: rootPlugin.pjson,
    bin,
    dirname: String(rootPlugin.pjson.oclif?.dirname ?? bin),
    dataDir: dataDir(bin, env),
    home: env.HOME || homedir(),
    plugins,
    rootPlugin,
    isSingleCommandCLI: false,
    topicSeparator: String(rootPlugin.pjson.oclif?.topicSeparator ?? ':'),
    async runHook(event: string, opts: object, timeout?: number, captureErrors?: boolean) {
      const final = {
        successes: [] as Array<{ plugin: LeanPlugin; result: unknown }>,
        failures: [] as Array<{ plugin: LeanPlugin; error: Error }>,
      };
      await Promise.all(
        [...plugins.values()].map(async (p) => {
          const context = hookContext(self);
          for (const hook of p.hooks[event] ?? []) {
            try {
              const module = await handlerModule(p, hook);
              const fn = (module[hook.identifier] ??
                (hook.identifier === 'default'
                  ? Object.values(module).find((m) => typeof m === 'function')
                  : undefined)) as ((this: unknown, o: object) => Promise<unknown>) | undefined;
              if (!fn) continue;
              const running = fn.call(context, { ...opts, config: self, context });
              const result = timeout ? await withTimeout(timeout, running) : await running;
              final.successes.push({ plugin: p, result });
            } catch (error) {
              final.failures.push({ plugin: p, error: error as Error });
              const e = error as { oclif?: { exit?: number }; code?: string };
              if (!captureErrors && e.oclif?.exit && e.code !== 'MODULE_NOT_FOUND') throw error;
            }
          }
        }),
      );
      return final;
    },
    /** Load the handlers of `events` now (while pip resolves, say), so the events themselves wait for none. */
    preload(events: readonly string[]): void {
      for (const p of plugins.values())
        for (const event of events)
          for (const hook of p.hooks[event] ?? []) handlerModule(p, hook).catch(() => {});
    },
  };
  const self = config as unknown as Config;
  return self;
}

async function withTimeout<T>(ms: number, promise: Promise<T>): Promise<T> {
  let id: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    id = setTimeout(() => reject(new Error(`Timed out after ${ms} ms.`)), ms).unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(id);
  }
}

/** The plain command lines this path takes; anything else goes to oclif. */
type Request =
  | { command: 'start'; name?: string }
  | { command: 'kill'; force: boolean }
  | { command: 'pip'; args: string[] }
  | { command: 'load'; name?: string; revision?: number; env?: string; path?: string };

/** `load [NAME] [--revision N] [--env ENV | --path DIR]`, each at most once; undefined for anything else. */
function plainLoad(args: readonly string[]): Request | undefined {
  const request: Extract<Request, { command: 'load' }> = { command: 'load' };
  const options: Record<string, 'env' | 'path' | 'revision'> = {
    '--env': 'env',
    '--path': 'path',
    '--revision': 'revision',
    '-r': 'revision',
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = options[eq > 0 ? arg.slice(0, eq) : arg];
    if (flag) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '' || value.startsWith('-') || request[flag] !== undefined)
        return undefined;
      if (flag === 'revision') {
        if (!/^[1-9]\d{0,8}$/.test(value)) return undefined; // oclif says why
        request.revision = Number(value);
      } else request[flag] = value;
    } else if (arg !== '' && !arg.startsWith('-') && request.name === undefined) request.name = arg;
    else return undefined;
  }
  return request;
}

function plain(command: string, args: readonly string[]): Request | undefined {
  if (command === 'start' && args.length <= 1 && args.every((a) => a !== '' && !a.startsWith('-')))
    return args[0] === undefined ? { command } : { command, name: args[0] };
  if (command === 'kill' && args.length === 0) return { command, force: false };
  if (command === 'kill' && args.length === 1 && (args[0] === '--force' || args[0] === '-f'))
    return { command, force: true };
  // What the pip shim runs: everything after `--` is pip's.
  if (command === 'pip' && args[0] === '--') return { command, args: args.slice(1) };
  // A rollback (`blast load before-upgrade`) should take the restore's time, not oclif's.
  if (command === 'load') return plainLoad(args);
  return undefined;
}

/**
 * Run `blast start`/`blast kill` (from the shell function) and `blast pip -- …` (from the pip shim)
 * without oclif: the exit status, or undefined when oclif must run the command instead (nothing
 * was done then).
 */
export async function runLean(root: string, argv: readonly string[]): Promise<number | undefined> {
  const env = process.env;
  if (env.DEBUG || env.BLAST_DEBUG) return undefined;
  const [command = '', ...args] = argv;
  const request = plain(command, args);
  if (!request) return undefined;
  // start and kill hand the shell function a script: only through it.
  if (
    (request.command === 'start' || request.command === 'kill') &&
    (!env.BLAST_SHELL || !env.BLAST_SHELL_SCRIPT)
  )
    return undefined;
  const config = leanConfig(root, env);
  if (!config) return undefined;
  try {
    // What oclif does before any command: the init event (the core's handler: BLAST_HOME made
    // absolute, incompatible plugins dropped).
    await config.runHook('init', { argv: args, id: command });
    const host = { config, warn: leanWarn };
    if (request.command === 'load') {
      const { loadSnapshotCommand } = await import('../snapshots/load.js');
      const { lines } = await loadSnapshotCommand(config, request);
      for (const line of lines) process.stdout.write(`${line}\n`);
      return 0;
    }
    if (request.command === 'pip') {
      const { pipThroughBlast } = await import('../transaction/pip-command.js');
      return await pipThroughBlast(config, request.args);
    }
    if (request.command === 'kill') {
      const { killActivation } = await import('../kill.js');
      await killActivation(host, request.force);
      return 0;
    }
    const { startEnvironment } = await import('../start.js');
    return await startEnvironment(host, request.name === undefined ? {} : { name: request.name });
  } catch (error) {
    const { userErrorOf } = await import('../cli/errors.js');
    const shown = userErrorOf(error);
    if (!shown) throw error;
    process.stderr.write(`blast: ${shown.message}\n${shown.hint ? `  ${shown.hint}\n` : ''}`);
    return shown.exitCode;
  }
}
