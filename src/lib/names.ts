/**
 * Validation of what users name: environments and the variables `--env` sets. Both end up in
 * file names, registry keys and shell code, so the rules are strict and the errors say why.
 */
import { BlastError, ExitCode } from './errors.js';
import { nulProblem } from './env-config.js';

/** Characters, counted as Unicode code points: "環" and "🐍" are one each. */
export const MAX_NAME_LENGTH = 100;

/**
 * A name is a file name (BLAST_HOME/envs/NAME, snapshots' NAME.json), and Linux and macOS allow
 * 255 bytes in one. Blast's own temporary siblings (`.blast-tmp-<pid>-…`, `blast.json.<pid>.tmp`)
 * do not carry the name; the longest thing it appends is `.json`. 240 bytes leaves that room and
 * some to spare: 100 ASCII characters, 80 CJK ones (3 bytes each), 60 emoji (4 bytes each).
 */
export const MAX_NAME_BYTES = 240;

// C0 controls, DEL and C1 controls: invisible, and a newline in a name would break every listing.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `name` cannot name an environment, or undefined when it can. */
export function envNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  // Not name.length: that counts UTF-16 units, two for an emoji.
  const characters = [...name].length;
  if (characters > MAX_NAME_LENGTH)
    return `it is ${characters} characters long, more than ${MAX_NAME_LENGTH}`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES)
    return `it takes ${bytes} bytes in UTF-8, more than the ${MAX_NAME_BYTES} a file name can hold here`;
  if (name.includes('/')) return 'it contains "/"';
  if (name.includes('..')) return 'it contains ".."';
  if (CONTROL.test(name)) return 'it contains a control character';
  if (name.startsWith('-')) return 'it starts with "-" (it would read as an option)';
  if (name.startsWith('.')) return 'it starts with "." (hidden and ambiguous with paths)';
  if (name.trim() !== name) return 'it starts or ends with white space';
  return undefined;
}

export function assertEnvName(name: string): string {
  const problem = envNameProblem(name);
  if (problem) {
    throw new BlastError(
      `Invalid environment name ${JSON.stringify(name)}: ${problem}.`,
      ExitCode.usage,
      `Use letters, digits, spaces, "-", "_" or "."; at most ${MAX_NAME_LENGTH} characters and ${MAX_NAME_BYTES} bytes in UTF-8.`,
    );
  }
  return name;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Variables Blast manages itself; `--env` may not set them. */
export const RESERVED_VARIABLES = new Set([
  'PATH',
  'VIRTUAL_ENV',
  'VIRTUAL_ENV_PROMPT',
  'PYTHONHOME',
  'PS1',
  'PROMPT',
]);

/** Validate repeated `--unset-env NAME` flags: names `--env` could have set. */
export function parseEnvRemovals(names: readonly string[]): string[] {
  for (const name of names) parseEnvAssignments([`${name}=`]);
  return [...names];
}

/** Parse repeated `--env K=V` flags; the value may contain anything, including `=` and newlines. */
export function parseEnvAssignments(assignments: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq < 0) {
      throw new BlastError(
        `--env ${JSON.stringify(assignment)} has no "=": write --env NAME=VALUE.`,
        ExitCode.usage,
      );
    }
    const name = assignment.slice(0, eq);
    if (!VARIABLE.test(name)) {
      throw new BlastError(
        `--env: ${JSON.stringify(name)} is not a valid variable name (letters, digits and "_", not starting with a digit).`,
        ExitCode.usage,
      );
    }
    if (RESERVED_VARIABLES.has(name) || name.startsWith('BLAST_') || name.startsWith('_BLAST')) {
      throw new BlastError(
        `--env: ${name} is managed by Blast and cannot be set with --env.`,
        ExitCode.usage,
      );
    }
    const value = assignment.slice(eq + 1);
    // argv cannot carry one, but a value built by a program calling Blast's code can.
    const problem = nulProblem(name, value);
    if (problem) throw new BlastError(`--env: ${problem}.`, ExitCode.usage);
    result[name] = value;
  }
  return result;
}
