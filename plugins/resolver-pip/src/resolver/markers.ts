/**
 * PEP 508 environment markers (`python_version < "3.11" and sys_platform == "linux"`), evaluated
 * against the marker environment pip reports for the target interpreter. Version comparisons use
 * PEP 440 when the right-hand side is a valid specifier version, else the strings are compared as
 * packaging does (`==`, `!=`, `in`, `not in`; any other string comparison is undefined and
 * reported as such, never guessed).
 */
import { pep440 } from './pep440.js';
import { normalizeName as norm } from './requirement.js';

export type MarkerEnvironment = Readonly<Record<string, string>>;

/** Old spellings packaging still accepts. */
const ALIASES: Record<string, string> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

const VARIABLES = new Set([
  'os_name',
  'sys_platform',
  'platform_machine',
  'platform_python_implementation',
  'platform_release',
  'platform_system',
  'platform_version',
  'python_version',
  'python_full_version',
  'implementation_name',
  'implementation_version',
  'extra',
  ...Object.keys(ALIASES),
]);

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'variable'; name: string }
  | { kind: 'op'; op: string }
  | { kind: 'and' | 'or' | '(' | ')' };

const TOKEN =
  /\s*(?:'([^']*)'|"([^"]*)"|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b|or\b)|([()])|([A-Za-z_][A-Za-z0-9_.]*))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m)
      throw new Error(`cannot read the marker ${JSON.stringify(text)} at ${JSON.stringify(text.slice(at))}`);
    if (m[1] !== undefined || m[2] !== undefined) tokens.push({ kind: 'string', value: m[1] ?? m[2]! });
    else if (m[3] !== undefined) tokens.push({ kind: 'op', op: m[3].replace(/\s+/, ' ') });
    else if (m[4] !== undefined) tokens.push({ kind: m[4] as 'and' | 'or' });
    else if (m[5] !== undefined) tokens.push({ kind: m[5] as '(' | ')' });
    else if (VARIABLES.has(m[6]!)) tokens.push({ kind: 'variable', name: ALIASES[m[6]!] ?? m[6]! });
    else throw new Error(`unknown marker variable ${JSON.stringify(m[6])} in ${JSON.stringify(text)}`);
  }
  return tokens;
}

const VERSION_OPS = new Set(['===', '==', '!=', '<=', '>=', '~=', '<', '>']);

function compare(lhs: string, op: string, rhs: string, text: string): boolean {
  if (op === 'in') return rhs.includes(lhs);
  if (op === 'not in') return !rhs.includes(lhs);
  if (VERSION_OPS.has(op) && op !== '===' && pep440().validRange(`${op}${rhs}`)) {
    if (pep440().valid(lhs)) return pep440().satisfies(lhs, `${op}${rhs}`, { prereleases: true });
  }
  if (op === '==' || op === '===') return lhs === rhs;
  if (op === '!=') return lhs !== rhs;
  throw new Error(
    `${JSON.stringify(text)}: ${JSON.stringify(lhs)} ${op} ${JSON.stringify(rhs)} is undefined`,
  );
}

/** Evaluate a marker; throws when it cannot be read or evaluated (the caller says so). */
export function evaluateMarker(text: string, environment: MarkerEnvironment): boolean {
  const tokens = tokenize(text);
  let i = 0;
  const value = (t: Token | undefined): string => {
    if (t?.kind === 'string') return t.value;
    if (t?.kind === 'variable') {
      const v = environment[t.name];
      if (v === undefined) throw new Error(`no value for ${t.name} in ${JSON.stringify(text)}`);
      return v;
    }
    throw new Error(`expected a value in the marker ${JSON.stringify(text)}`);
  };
  const atom = (): boolean => {
    const t = tokens[i];
    if (t?.kind === '(') {
      i++;
      const inner = or();
      if (tokens[i]?.kind !== ')') throw new Error(`unbalanced parentheses in ${JSON.stringify(text)}`);
      i++;
      return inner;
    }
    const lhs = value(tokens[i++]);
    const op = tokens[i++];
    if (op?.kind !== 'op') throw new Error(`expected an operator in the marker ${JSON.stringify(text)}`);
    const rhs = value(tokens[i++]);
    // `extra` compares normalised names (PEP 685).
    const isExtra =
      tokens[i - 3]?.kind === 'variable' && (tokens[i - 3] as { name: string }).name === 'extra';
    if (isExtra) return compare(norm(lhs), op.op, norm(rhs), text);
    return compare(lhs, op.op, rhs, text);
  };
  const and = (): boolean => {
    let result = atom();
    while (tokens[i]?.kind === 'and') {
      i++;
      result = atom() && result;
    }
    return result;
  };
  const or = (): boolean => {
    let result = and();
    while (tokens[i]?.kind === 'or') {
      i++;
      result = and() || result;
    }
    return result;
  };
  const result = or();
  if (i !== tokens.length) throw new Error(`cannot read the end of the marker ${JSON.stringify(text)}`);
  return result;
}
