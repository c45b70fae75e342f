/**
 * What activation and deactivation change in a shell, decided here and only rendered by shell
 * adapters.
 *
 * The shell's original values are kept in one exported variable (STATE_VARIABLE) so that `kill`
 * works from any shell that inherited the activation (a subshell, a terminal multiplexer pane)
 * and needs neither the daemon nor a file. Switching from A to B first reverts A in memory and
 * applies B to the result, so `kill` after any number of switches restores the shell as it was
 * before the first `start`.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { cacheDir } from '../paths.js';
import type { EnvInfo, ShellChange } from '../plugin-host/contract.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import { shellArg } from './arg.js';

export const STATE_VARIABLE = 'BLAST_SHELL_STATE';
export const ENV_NAME_VARIABLE = 'BLAST_ENV';

/** A view of a shell's exported variables; undefined means unset (not empty). */
export type Vars = Readonly<Record<string, string | undefined>>;

/** What the core needs to undo an activation; JSON in STATE_VARIABLE (base64url, so one safe line). */
export interface ShellState {
  v: 1;
  env: { name: string; path: string };
  /** Value of each variable before the first activation; null: it was unset. */
  original: Record<string, string | null>;
  /** Value Blast gave each variable; null: Blast unset it. A long one is in `digests` instead. */
  applied: Record<string, string | null>;
  /**
   * SHA-256 (hex) of a long value Blast gave a variable, in place of the value in `applied`: the
   * state only needs to tell whether the variable still holds it, and a copy of a 98 KB value would
   * make the state variable larger than the kernel lets one variable be (see STATE_LIMIT).
   */
  digests?: Record<string, string>;
  /** Entries Blast put in front of PATH, so they can be taken out again if PATH changed since. */
  pathEntries: string[];
}

export interface ActivationInput {
  env: EnvInfo;
  /** The environment's stored variables and this start's `--env` ones. */
  variables: Record<string, string>;
  /** Plugins' additions. */
  extraVariables: Record<string, string>;
  extraPath: string[];
  /** The directory of the pip shim (see transaction/shim.ts), put first on PATH, before the env's bin. */
  shim?: string;
}

export function binDir(envPath: string): string {
  return join(envPath, 'bin');
}

/**
 * Linux refuses to start any program whose environment holds one `NAME=value` string longer than
 * MAX_ARG_STRLEN (32 pages: 128 KiB): every command in the shell, `blast kill` included, would fail
 * with "Argument list too long". Each variable Blast sets, and its own state, stays below.
 */
export const VARIABLE_LIMIT = 128 * 1024 - 1;
/**
 * All of a program's arguments and environment share ARG_MAX (usually 2 MiB): what `--env` adds in
 * total is kept to a quarter of it, so commands still start with the rest of the shell's variables.
 */
export const VARIABLES_TOTAL_LIMIT = 512 * 1024;
/** Applied values longer than this are kept as a digest in the state (see ShellState.digests). */
const DIGEST_ABOVE = 128;

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** `NAME=value` as the kernel counts it: UTF-8 bytes, with the terminating NUL. */
export function variableBytes(name: string, value: string): number {
  return Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
}

/** Does `name` still hold what Blast gave it? */
function stillApplied(state: ShellState, name: string, now: string | undefined): boolean {
  const digest = state.digests?.[name];
  if (digest !== undefined) return now !== undefined && sha256(now) === digest;
  return now === (state.applied[name] ?? undefined);
}

export function encodeState(state: ShellState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

function isStringMap(value: unknown, allowNull: boolean): value is Record<string, string | null> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'string' || (allowNull && v === null));
}

/** Parse the state variable; a value that is not exactly what Blast writes is refused, not guessed at. */
export function decodeState(raw: string): ShellState {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(raw)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const s = parsed as Partial<ShellState> | undefined;
  const valid =
    s !== undefined &&
    s !== null &&
    s.v === 1 &&
    typeof s.env?.name === 'string' &&
    typeof s.env?.path === 'string' &&
    isStringMap(s.original, true) &&
    isStringMap(s.applied, true) &&
    (s.digests === undefined || isStringMap(s.digests, false)) &&
    Array.isArray(s.pathEntries) &&
    s.pathEntries.every((e) => typeof e === 'string');
  if (!valid) {
    throw new BlastError(
      `This shell's ${STATE_VARIABLE} is not readable, so Blast cannot tell what to restore.`,
      ExitCode.failure,
      `Run \`blast kill --force\` to drop Blast's variables, or open a new shell.`,
    );
  }
  return s as ShellState;
}

/** The active environment's state in these variables, if any. */
export function activeState(vars: Vars): ShellState | undefined {
  const raw = vars[STATE_VARIABLE];
  return raw === undefined ? undefined : decodeState(raw);
}

function removeEntries(path: string, entries: readonly string[]): string {
  const parts = path.split(':');
  for (const entry of entries) {
    const at = parts.indexOf(entry);
    if (at >= 0) parts.splice(at, 1);
  }
  return parts.join(':');
}

/**
 * The variables as they would be without the activation. A variable still holding what Blast
 * gave it goes back to its original value (or unset); one the user changed since keeps the
 * user's value — except PATH, from which Blast's own entries are taken out.
 */
export function revert(vars: Vars, state: ShellState): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = { ...vars };
  for (const [name, original] of Object.entries(state.original)) {
    const now = vars[name];
    if (stillApplied(state, name, now)) result[name] = original ?? undefined;
    else if (name === 'PATH' && now !== undefined) result[name] = removeEntries(now, state.pathEntries);
  }
  delete result[STATE_VARIABLE];
  return result;
}

/** The variables with `input` activated on top of `baseline` (a shell with no activation). */
export function activate(baseline: Vars, input: ActivationInput): Record<string, string | undefined> {
  const { env } = input;
  const pathEntries = [...(input.shim ? [input.shim] : []), binDir(env.path), ...input.extraPath];
  const oldPath = baseline.PATH;
  const target: Record<string, string | undefined> = { ...baseline };
  // Add a separator only when there was something to separate from: an empty PATH element means
  // "the current directory", which activation must not introduce.
  target.PATH = pathEntries.join(':') + (oldPath ? `:${oldPath}` : '');
  target.VIRTUAL_ENV = env.path;
  target.VIRTUAL_ENV_PROMPT = env.name;
  target[ENV_NAME_VARIABLE] = env.name;
  target.PYTHONHOME = undefined; // like venv's activate: a PYTHONHOME would point python elsewhere
  // As virtualenv 20.38 does: the environment's own .pc files first; a separator only when there
  // was a value (empty stays without one, and kill gives back exactly empty or unset).
  const pkgConfig = baseline.PKG_CONFIG_PATH;
  target.PKG_CONFIG_PATH = join(env.path, 'lib', 'pkgconfig') + (pkgConfig ? `:${pkgConfig}` : '');
  for (const [name, value] of Object.entries({ ...input.extraVariables, ...input.variables }))
    target[name] = value;

  const touched = new Set([
    'PATH',
    'VIRTUAL_ENV',
    'VIRTUAL_ENV_PROMPT',
    ENV_NAME_VARIABLE,
    'PYTHONHOME',
    'PKG_CONFIG_PATH',
  ]);
  for (const name of Object.keys(input.extraVariables)) touched.add(name);
  for (const name of Object.keys(input.variables)) touched.add(name);
  const state: ShellState = {
    v: 1,
    env: { name: env.name, path: env.path },
    original: {},
    applied: {},
    pathEntries,
  };
  const digests: Record<string, string> = {};
  for (const name of [...touched].sort()) {
    state.original[name] = baseline[name] ?? null;
    const applied = target[name];
    if (applied !== undefined && applied.length > DIGEST_ABOVE) digests[name] = sha256(applied);
    else state.applied[name] = applied ?? null;
  }
  if (Object.keys(digests).length > 0) state.digests = digests;
  refuseOversized(input, target, state);
  target[STATE_VARIABLE] = encodeState(state);
  return target;
}

/**
 * Refuse, before the shell is touched, an activation that would leave it unable to start any
 * program (see VARIABLE_LIMIT): a variable too long for the kernel, variables too long together,
 * or a state that cannot fit because of the shell's own long values Blast must give back.
 */
function refuseOversized(
  input: ActivationInput,
  target: Record<string, string | undefined>,
  state: ShellState,
): void {
  const own = Object.keys(input.variables);
  const which = input.env.kind === 'named' ? shellArg(input.env.name) : `--path ${shellArg(input.env.path)}`;
  const way = (names: readonly string[]) =>
    `Keep large data in a file and pass its path instead${
      names.length ? `: blast start ${which} ${names.map((n) => `--unset-env ${n}`).join(' ')}` : ''
    }.`;
  for (const [name, value] of Object.entries(target)) {
    if (value === undefined || name === STATE_VARIABLE) continue;
    const bytes = variableBytes(name, value);
    if (
      bytes > VARIABLE_LIMIT &&
      (name in input.variables || name in input.extraVariables || name === 'PATH')
    )
      throw new BlastError(
        `${name} would be ${bytes} bytes, more than the ${VARIABLE_LIMIT + 1} one variable may hold on Linux: every command in the shell would fail with "Argument list too long". Nothing was changed.`,
        ExitCode.usage,
        way(name in input.variables ? [name] : []),
      );
  }
  const size = (name: string) => variableBytes(name, input.variables[name]!);
  const total = own.reduce((sum, name) => sum + size(name), 0);
  if (total > VARIABLES_TOTAL_LIMIT) {
    const large = own.filter((name) => size(name) > 4096).sort((a, b) => size(b) - size(a));
    throw new BlastError(
      `The environment's variables take ${total} bytes together, more than the ${VARIABLES_TOTAL_LIMIT} Blast allows (programs get about 2 MiB for all their arguments and variables). Nothing was changed.`,
      ExitCode.usage,
      way(large),
    );
  }
  const bytes = variableBytes(STATE_VARIABLE, encodeState(state));
  if (bytes > VARIABLE_LIMIT) {
    const big = Object.entries(state.original)
      .filter(([, v]) => v !== null && v.length > 4096)
      .map(([name]) => name);
    throw new BlastError(
      `This shell's own values of ${big.join(', ') || 'the variables Blast sets'} are too long for Blast to keep so that kill can give them back (${bytes} bytes, more than ${VARIABLE_LIMIT + 1}). Nothing was changed.`,
      ExitCode.usage,
      `Unset or shorten ${big.join(', ') || 'them'} in this shell first, or start the environment in a new shell.`,
    );
  }
}

/**
 * Refuse, before anything is written, variables that could not be activated in this shell (see
 * refuseOversized): `start` calls it with the variables the environment is about to have.
 */
export function assertActivationFits(current: Vars, env: EnvInfo, variables: Record<string, string>): void {
  const previous = activeState(current);
  const baseline = previous ? revert(current, previous) : current;
  activate(baseline, { env, variables, extraVariables: {}, extraPath: [] });
}

/** The smallest change that turns `current` into `target`, restricted to the given names. */
export function diff(
  current: Vars,
  target: Vars,
  names: Iterable<string>,
): Pick<ShellChange, 'set' | 'unset'> {
  const set: Array<readonly [string, string]> = [];
  const unset: string[] = [];
  for (const name of [...new Set(names)].sort()) {
    const want = target[name];
    if (want === undefined) {
      if (current[name] !== undefined) unset.push(name);
    } else if (current[name] !== want) {
      set.push([name, want]);
    }
  }
  // The state last: if rendering stops half way, no state points at an activation that is not there.
  const at = set.findIndex(([name]) => name === STATE_VARIABLE);
  if (at >= 0) set.push(...set.splice(at, 1));
  return { set, unset };
}

function namesOf(...maps: Array<Record<string, unknown> | undefined>): string[] {
  return maps.flatMap((m) => (m ? Object.keys(m) : []));
}

/**
 * The commands venv users type, standing for Blast while an environment is active: `deactivate`
 * (venv, virtualenv, conda) is `blast kill`; `pydoc` is the environment's, as virtualenv defines it.
 * The shell's own function or alias of the name is kept aside and given back (ShellChange.commands).
 */
export const HABIT_COMMANDS: ReadonlyArray<{ name: string; run: readonly string[] }> = [
  { name: 'deactivate', run: ['blast', 'kill'] },
  { name: 'pydoc', run: ['python', '-m', 'pydoc'] },
];
const restoreCommands = { restore: HABIT_COMMANDS.map((c) => c.name) };

/** The change `blast start` hands the shell: revert whatever is active, then activate `input`. */
export function startChange(current: Vars, input: ActivationInput): ShellChange {
  const previous = activeState(current);
  const baseline = previous ? revert(current, previous) : current;
  const target = activate(baseline, input);
  const next = decodeState(target[STATE_VARIABLE]!);
  // Keep the originals from before the first activation, not the values A left behind.
  const names = namesOf(previous?.original, next.original);
  const change = diff(current, target, [...names, STATE_VARIABLE]);
  const originals = { ...previous?.original, ...next.original };
  return {
    ...change,
    ...shellOnly(change, current, originals),
    prompt: { action: 'tag', tag: `(${input.env.name}) ` },
    commands: { define: HABIT_COMMANDS },
  };
}

/**
 * What the shell itself must keep and give back (ShellChange's keep/putBack): the core sees only
 * exported variables, so a name it saw unset may still hold a shell-only value in the shell.
 * Kept: names being set that are unset here now and were before the first activation (one
 * exported since, by the previous environment, is no shell-only value). Put back: names going
 * back to unset that were unset before the first activation.
 */
function shellOnly(
  change: Pick<ShellChange, 'set' | 'unset'>,
  current: Vars,
  originals: Readonly<Record<string, string | null>>,
): Pick<ShellChange, 'keep' | 'putBack'> {
  const wasUnset = (name: string) => name in originals && originals[name] === null;
  const keep = change.set
    .map(([name]) => name)
    .filter((name) => current[name] === undefined && wasUnset(name));
  const putBack = change.unset.filter(wasUnset);
  return { ...(keep.length ? { keep } : {}), ...(putBack.length ? { putBack } : {}) };
}

/** The change `blast kill` hands the shell. */
export function killChange(current: Vars): { change: ShellChange; state: ShellState } {
  const state = activeState(current);
  if (!state) {
    throw new BlastError(
      'No Blast environment is active in this shell.',
      ExitCode.notFound,
      'Start one with `blast start NAME`.',
    );
  }
  const target = revert(current, state);
  const change = diff(current, target, [...Object.keys(state.original), STATE_VARIABLE]);
  return {
    change: {
      ...change,
      ...shellOnly(change, current, state.original),
      prompt: { action: 'restore' },
      commands: restoreCommands,
    },
    state,
  };
}

/**
 * `blast kill --force` when the state is unreadable: drop what Blast sets by name and take the
 * environment's bin directory and the pip shim out of PATH. Best effort, said so to the user.
 */
export function forcedKillChange(current: Vars): ShellChange {
  const venv = current.VIRTUAL_ENV;
  const target: Record<string, string | undefined> = { ...current };
  for (const name of [STATE_VARIABLE, ENV_NAME_VARIABLE, 'VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT'])
    target[name] = undefined;
  if (venv && current.PATH !== undefined) {
    // The pip shim too: a directory of the cache's shim folder (see transaction/shim.ts).
    const shims = join(cacheDir(current), 'shim');
    const shim = current.PATH.split(':').filter((entry) => dirname(entry) === shims);
    target.PATH = removeEntries(current.PATH, [...shim, binDir(venv)]);
  }
  const names = [STATE_VARIABLE, ENV_NAME_VARIABLE, 'VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT', 'PATH'];
  return { ...diff(current, target, names), prompt: { action: 'restore' }, commands: restoreCommands };
}
