/**
 * The isolation policy: the settings this plugin owns, how each value is checked, and the one
 * policy they make together. Settings are checked one by one when given (SettingSpec.parse);
 * what needs two of them at once (no-network needs the sandbox) is checked by policyOf(), which
 * every enforcing hook calls, so a combination stored through `blast config` is refused at use.
 */
import type { SettingSpec, Settings } from 'blast/contract';

export type Level = 'none' | 'limits' | 'sandbox';
export const LEVELS: readonly Level[] = ['none', 'limits', 'sandbox'];

/** The variable the sandbox wrapper sets (to the environment's path) inside bubblewrap. */
export const SANDBOX_VARIABLE = 'BLAST_SANDBOX';
/** The activated shell's soft limits from before the activation, restored by `blast kill`. */
export const SAVED_VARIABLE = 'BLAST_LIMITS_SAVED';

export interface Policy {
  /** What is enforced: the explicit `isolation`, else what the other settings need. */
  level: Level;
  /** Whether `isolation` was given, or the level follows from the other settings. */
  explicit: boolean;
  /** Bytes of data segment (RLIMIT_DATA): heap and private memory maps. */
  memory?: number;
  /** Processes and threads (RLIMIT_NPROC). */
  maxProcs?: number;
  /** CPU seconds per process (RLIMIT_CPU). */
  cpuTime?: number;
  /** Bytes the environment may take on disk, checked after each pip transaction. */
  diskQuota?: number;
  noNetwork: boolean;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?$/;

/** `512M`, `2G`, `1.5G`, `100KiB`, `1048576` → bytes (binary units); undefined when not a size. */
export function bytesOf(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toUpperCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Bytes as the shortest exact-enough size: 536870912 → 512M, 1610612736 → 1.5G. */
export function formatBytes(bytes: number): string {
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    const value = bytes / UNITS[unit]!;
    if (value >= 1) return `${Number.isInteger(value) ? value : value.toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
}

/**
 * Below this, Blast itself cannot run in the limited shell (and so neither can `blast kill`):
 * measured with RLIMIT_DATA, `node -e 1` hangs at 32M and starts at 64M, and the whole CLI
 * (`blast list`) aborts at 96M and runs at 112M.
 */
export const MIN_MEMORY = 128 * 1024 ** 2;

function parseSize(what: string, min: number): (value: string) => string {
  return (value) => {
    const bytes = bytesOf(value);
    if (bytes === undefined) {
      throw new Error(`${what} is a size such as 512M or 2G (K, M, G, T: powers of 1024).`);
    }
    if (bytes < min) throw new Error(`${what} must be at least ${formatBytes(min)}.`);
    // Stored in the unit the user thinks in when that is exact (`2G`), else in bytes.
    const short = formatBytes(bytes);
    return bytesOf(short) === bytes ? short : String(bytes);
  };
}

function parseCount(value: string): string {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new Error('a whole number of processes, at least 1.');
  }
  return String(Number(value));
}

const DURATION = /^(\d+)\s*([smh]?)$/;
const SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 };

function parseSeconds(value: string): string {
  const match = DURATION.exec(value.trim().toLowerCase());
  const seconds = match ? Number(match[1]) * SECONDS[match[2]!]! : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new Error('CPU seconds per process: a whole number, at least 1 (or 90s, 5m, 1h).');
  }
  return String(seconds);
}

export const SETTINGS: SettingSpec[] = [
  {
    name: 'isolation',
    description:
      'How the environment is isolated: none, limits (resource limits on the activated shell and on blast run) or sandbox (bubblewrap: read-only system, private /tmp, the env and the project writable). Default: what the other settings need.',
    type: 'string',
    options: LEVELS,
    helpValue: 'LEVEL',
  },
  {
    name: 'memory',
    description:
      'Memory each process may allocate (its data segment, RLIMIT_DATA), e.g. 512M or 2G; at least 128M.',
    type: 'string',
    helpValue: 'SIZE',
    parse: parseSize('memory', MIN_MEMORY),
  },
  {
    name: 'max-procs',
    description:
      'Processes and threads at once (RLIMIT_NPROC): in the sandbox its own, outside it all of your user’s; root is exempt outside the sandbox.',
    type: 'string',
    helpValue: 'N',
    parse: parseCount,
  },
  {
    name: 'cpu-time',
    description: 'CPU seconds each process may use before it is stopped (RLIMIT_CPU; 90, 90s, 5m, 1h).',
    type: 'string',
    helpValue: 'SECONDS',
    parse: parseSeconds,
  },
  {
    name: 'disk-quota',
    description:
      'How much disk the environment may take, e.g. 5G; a pip install that goes past it is rolled back.',
    type: 'string',
    helpValue: 'SIZE',
    parse: parseSize('disk-quota', 1024 ** 2),
  },
  {
    name: 'no-network',
    description:
      'No network inside the sandbox, not even the host’s 127.0.0.1 (implies --isolation sandbox).',
    type: 'boolean',
  },
];

function stringSetting(settings: Settings, name: string): string | undefined {
  const value = settings[name];
  return typeof value === 'string' ? value : undefined;
}

/** A stored value that no longer parses (a hand-edited blast.json) is an error, never ignored. */
function numberSetting(settings: Settings, name: string, read: (text: string) => number | undefined) {
  const text = stringSetting(settings, name);
  if (text === undefined) return undefined;
  const value = read(text);
  if (value === undefined || !(value > 0)) {
    throw new Error(
      `the stored ${name} ${JSON.stringify(text)} is not valid; fix it with \`blast config ${name}=…\`.`,
    );
  }
  return value;
}

/** The environment's policy; throws (a clear message) for a combination that cannot be enforced. */
export function policyOf(settings: Settings): Policy {
  const isolation = stringSetting(settings, 'isolation');
  if (isolation !== undefined && !LEVELS.includes(isolation as Level)) {
    throw new Error(`the stored isolation ${JSON.stringify(isolation)} is not one of ${LEVELS.join(', ')}.`);
  }
  const policy: Policy = {
    level: 'none',
    explicit: isolation !== undefined,
    memory: numberSetting(settings, 'memory', bytesOf),
    maxProcs: numberSetting(settings, 'max-procs', (t) => (/^\d+$/.test(t) ? Number(t) : undefined)),
    cpuTime: numberSetting(settings, 'cpu-time', (t) => (/^\d+$/.test(t) ? Number(t) : undefined)),
    diskQuota: numberSetting(settings, 'disk-quota', bytesOf),
    noNetwork: settings['no-network'] === true,
  };
  if (isolation !== undefined) policy.level = isolation as Level;
  else if (policy.noNetwork) policy.level = 'sandbox';
  else if (hasLimits(policy)) policy.level = 'limits';
  if (policy.noNetwork && policy.level === 'limits') {
    throw new Error(
      'no-network needs --isolation sandbox: a network namespace can only be given to processes Blast starts, not taken from a running shell.',
    );
  }
  return policy;
}

export function hasLimits(policy: Policy): boolean {
  return policy.memory !== undefined || policy.maxProcs !== undefined || policy.cpuTime !== undefined;
}

/** One line for humans: `sandbox no-network memory=512M max-procs=64`. */
export function describe(policy: Policy): string {
  if (policy.level === 'none') {
    return hasLimits(policy) || policy.noNetwork ? 'none (limits kept, not enforced)' : 'none';
  }
  const parts: string[] = [policy.level];
  if (policy.noNetwork) parts.push('no-network');
  if (policy.memory !== undefined) parts.push(`memory=${formatBytes(policy.memory)}`);
  if (policy.maxProcs !== undefined) parts.push(`max-procs=${policy.maxProcs}`);
  if (policy.cpuTime !== undefined) parts.push(`cpu-time=${policy.cpuTime}s`);
  return parts.join(' ');
}
