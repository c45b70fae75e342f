/**
 * Validation of what users name: environments and the variables `--env` sets. Both end up in
 * file names, registry keys and shell code, so the rules are strict and the errors say why.
 */
import { VARIABLE_LIMIT, variableBytes } from '../shell/activation.js';
import { BlastError, ExitCode } from '../cli/errors.js';
import { nulProblem } from './config.js';

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

/**
 * Characters that cannot be shown honestly: format characters (Unicode category Cf: zero-width
 * spaces and joiners U+200B–U+200D, the marks U+200E/U+200F, U+2060, U+FEFF, the bidi embeddings,
 * overrides and isolates U+202A–U+202E and U+2066–U+2069, …), line and paragraph separators, and
 * lone surrogates. With them, two different environments print alike, or a name prints as
 * something it is not (a right-to-left override reverses what follows it).
 */
const HIDDEN = /[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** `U+200B` for a code point. */
function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The key two names collide on where file names are compared without case or normalization
 * (macOS's and Windows' default file systems, a case-insensitive share): `Demo` and `demo`, `café`
 * written precomposed and decomposed.
 */
export function nameFoldKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().normalize('NFKC');
}

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
  // Node turns bytes that are not UTF-8 (in argv, in a directory name) into U+FFFD.
  if (name.includes('\uFFFD'))
    return 'it contains U+FFFD, the replacement character: the name given was not valid UTF-8, or holds that character';
  if (CONTROL.test(name)) return 'it contains a control character';
  const hidden = HIDDEN.exec(name);
  if (hidden)
    return `it contains ${codePoint(hidden[0])}, an invisible or direction-changing character: the name would not print as what it is`;
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
      `Use visible letters, digits, spaces, "-", "_" or "."; at most ${MAX_NAME_LENGTH} characters and ${MAX_NAME_BYTES} bytes in UTF-8.`,
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
    const bytes = variableBytes(name, value);
    if (bytes > VARIABLE_LIMIT) {
      throw new BlastError(
        `--env ${name}: the value makes ${bytes} bytes, more than the ${VARIABLE_LIMIT + 1} one variable may hold on Linux; every command in the shell would fail with "Argument list too long". Nothing was changed.`,
        ExitCode.usage,
        `Keep large data in a file and pass its path: --env ${name}_FILE=/path/to/file.`,
      );
    }
    result[name] = value;
  }
  return result;
}
