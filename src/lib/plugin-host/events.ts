/**
 * Running one lifecycle event across plugins.
 *
 * oclif runs every handler of an event in parallel and, with captureErrors, collects thrown
 * errors in `failures` instead of rethrowing. The core therefore calls one event at a time and
 * decides per event what a failure means:
 *  - `veto`:    any failure stops the command, naming the plugin and its reason;
 *  - `require`: the event's results are needed to go on (e.g. the activation), so any failure stops too;
 *  - `inform`:  failures become warnings and the command goes on.
 */
import type { Interfaces } from '@oclif/core';

type Config = Interfaces.Config;
import { join } from 'node:path';
import type { BlastContext, BlastHooks } from './contract.js';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { coreApiVersion } from './api-version.js';
import { blastHome, cacheDir, type Env, envStateDir, runtimeDir, stateDir } from '../paths.js';
import { byText } from '../text-order.js';

export type Policy = 'veto' | 'require' | 'inform';

export interface PluginResult<T> {
  plugin: string;
  result: T;
}

export interface PhaseFailure {
  plugin: string;
  message: string;
  hint?: string;
  exitCode: number;
}

export interface PhaseOutcome<T> {
  results: PluginResult<T>[];
  failures: PhaseFailure[];
}

type EventName = keyof BlastHooks;

/** What a core command passes: the event's own fields; `ctx` is added here, the same for every event. */
export type EventOptions<E extends EventName> = Omit<BlastHooks[E]['options'], 'ctx'>;

/** The `ctx` every payload carries (API 1.5): the core's own answers, never a plugin's copy. */
export function eventContext(config: Config, env: Env = process.env): BlastContext {
  return {
    apiVersion: coreApiVersion(config),
    home: blastHome(env),
    stateDir: stateDir(env),
    envStateDir: (envPath) => envStateDir(envPath, env),
    runtimeDir: runtimeDir(env),
    cacheDir: cacheDir(env),
    cli: [process.execPath, join(config.root, 'bin', 'run.js')],
    env,
  };
}

/**
 * A plugin's error in the user's words: a BlastError, or any error shaped like one — `{message,
 * hint?, exitCode?}` — so a plugin needs no copy of the core's class (documented in docs/plugins.md).
 */
function hintOf(error: unknown): string | undefined {
  const hint = (error as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string' && hint.trim() !== '' ? hint : undefined;
}

/** Exit code a handler asked for: oclif's `this.error(msg, {exit})`, a BlastError's, else the default. */
function exitCodeOf(error: unknown, fallback: number): number {
  const oclifExit = (error as { oclif?: { exit?: unknown } } | null)?.oclif?.exit;
  if (typeof oclifExit === 'number' && oclifExit > 0) return oclifExit;
  const own = (error as { exitCode?: unknown } | null)?.exitCode;
  if (typeof own === 'number' && own > 0) return own;
  return fallback;
}

export async function runPhase<E extends EventName>(
  config: Config,
  event: E,
  options: EventOptions<E>,
  policy: Policy,
  warn: (message: string) => void = (message) => process.stderr.write(`blast: warning: ${message}\n`),
): Promise<PhaseOutcome<BlastHooks[E]['return']>> {
  // captureErrors: true — we read every failure ourselves instead of letting the first one escape.
  const payload = { ...options, ctx: eventContext(config) };
  const raw = await config.runHook(event, payload as never, undefined, true);
  const results = raw.successes.map((s) => ({
    plugin: s.plugin.name,
    result: s.result as BlastHooks[E]['return'],
  }));
  const failures = raw.failures.map((f) => ({
    plugin: f.plugin.name,
    message: messageOf(f.error),
    hint: hintOf(f.error),
    exitCode: exitCodeOf(f.error, policy === 'veto' ? ExitCode.veto : ExitCode.failure),
  }));
  // Deterministic order for the caller: oclif finishes handlers in whatever order they settle.
  results.sort((a, b) => byText(a.plugin, b.plugin));
  failures.sort((a, b) => byText(a.plugin, b.plugin));

  if (failures.length > 0 && policy !== 'inform') {
    const [first] = failures;
    const what =
      policy === 'veto' ? `stopped by plugin ${first!.plugin}` : `failed in plugin ${first!.plugin}`;
    const others = failures.slice(1).map((f) => `\n  also ${f.plugin}: ${f.message}`);
    throw new BlastError(
      `${event} ${what}: ${first!.message}${others.join('')}`,
      first!.exitCode,
      first!.hint,
    );
  }
  for (const failure of failures) warn(`${event}: plugin ${failure.plugin} failed: ${failure.message}`);
  return { results, failures };
}

/**
 * Load the handlers of `events` ahead of the events, where the config can (the lean path's, which
 * imports them itself): a transaction asks this once pip runs, so the review of pip's plan and the
 * check after it do not wait for their modules. Nothing runs; a handler that fails to load fails
 * in its event, as without this.
 */
export function preloadEvents(config: Config, events: readonly EventName[]): void {
  (config as Config & { preload?: (events: readonly string[]) => void }).preload?.(events);
}
