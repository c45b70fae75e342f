/**
 * The runner `blast check` and `blast clean` share: the core's items (checks, clean actions), then
 * every plugin's answer to the same event, each named by who gave it (`blast` for the core); then
 * each item's action (a repair, a removal) run one after the other unless it is a dry run, a
 * failing action reported with its reason, never thrown, so one plugin's fault stops no other's.
 */
import type { Interfaces } from '@oclif/core';
import { messageOf } from '../cli/errors.js';
import type { BlastHooks } from './contract.js';
import { type EventOptions, type PhaseFailure, runPhase } from './events.js';

type ActionEvent = 'check' | 'clean';
type Item<E extends ActionEvent> = BlastHooks[E]['return'][number];

/** One item and who gave it. */
export interface Sourced<T> {
  source: string;
  item: T;
}

/** An item after its action: `ran` when it was attempted; `error` why it failed. */
export interface Acted<T> extends Sourced<T> {
  ran: boolean;
  error?: string;
}

/**
 * The core's `core` items, then the plugins' answers to `event` in plugin order. A plugin whose
 * handler failed becomes `failed(failure)`, an item of its own (a failing check); without
 * `failed`, a warning on stderr.
 */
export async function gatherItems<E extends ActionEvent>(
  config: Interfaces.Config,
  event: E,
  payload: EventOptions<E>,
  core: ReadonlyArray<Item<E>>,
  failed?: (failure: PhaseFailure) => Item<E>,
): Promise<Array<Sourced<Item<E>>>> {
  const all: Array<Sourced<Item<E>>> = core.map((item) => ({ source: 'blast', item }));
  const { results, failures } = await runPhase(
    config,
    event,
    payload,
    'inform',
    failed ? () => {} : undefined,
  );
  for (const { plugin, result } of results)
    for (const item of result ?? []) all.push({ source: plugin, item });
  if (failed) for (const f of failures) all.push({ source: f.plugin, item: failed(f) });
  return all;
}

/**
 * Run each item's action, in order: `action(item)` gives it, or undefined for none. `dryRun`
 * runs none.
 */
export async function runItems<T>(
  items: ReadonlyArray<Sourced<T>>,
  action: (item: T) => (() => unknown) | undefined,
  dryRun: boolean,
): Promise<Array<Acted<T>>> {
  const out: Array<Acted<T>> = [];
  for (const sourced of items) {
    const run = dryRun ? undefined : action(sourced.item);
    const acted: Acted<T> = { ...sourced, ran: run !== undefined };
    if (run) {
      try {
        await run();
      } catch (error) {
        acted.error = messageOf(error);
      }
    }
    out.push(acted);
  }
  return out;
}
