/**
 * PEP 508 requirement lines, as METADATA's Requires-Dist and constraints files hold them:
 * `name [extras] (specifier | @ url) ; marker`. Only the parts the analysis uses are kept; the
 * marker stays text for markers.ts to evaluate.
 */

export interface Requirement {
  /** As written. */
  name: string;
  /** PEP 503 normalised: lower case, runs of `-_.` as one `-`. */
  key: string;
  extras: string[];
  /** PEP 440 specifier set without spaces (`>=1,<2`); empty for any version. */
  specifier: string;
  url?: string;
  marker?: string;
}

/**
 * PEP 503 normalised name. The plugin's one copy of the core's rule (src/lib/python/names.ts): a
 * plugin cannot import the core at run time.
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*/;
const EXTRAS = /^\[\s*([A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*)?\s*\]\s*/;
// One clause: an operator and a version (or a prefix match `1.*`, or anything after `===`).
const CLAUSE = String.raw`(?:===\s*[^\s,;)]+|(?:~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9_.*+!-]+)`;
const SPECIFIER = new RegExp(String.raw`^(${CLAUSE}(?:\s*,\s*${CLAUSE})*)\s*`);

/** Parse one requirement; throws an Error saying what is wrong. */
export function parseRequirement(line: string): Requirement {
  const text = line.trim();
  let rest = text;
  const name = NAME.exec(rest);
  if (!name) throw new Error(`${JSON.stringify(line)} does not start with a distribution name`);
  rest = rest.slice(name[0].length);
  const req: Requirement = { name: name[1]!, key: normalizeName(name[1]!), extras: [], specifier: '' };
  const extras = EXTRAS.exec(rest);
  if (extras) {
    req.extras = (extras[1] ?? '')
      .split(',')
      .map((e) => normalizeName(e.trim()))
      .filter(Boolean);
    rest = rest.slice(extras[0].length);
  }
  if (rest.startsWith('@')) {
    // A URL ends at whitespace; a marker needs whitespace before its `;` (PEP 508).
    const url = /^@\s*(\S+)\s*/.exec(rest);
    if (!url) throw new Error(`${JSON.stringify(line)}: \`@\` without a URL`);
    req.url = url[1]!;
    rest = rest.slice(url[0].length);
  } else {
    // Legacy METADATA writes the specifier in parentheses: `foo (>=1.0)`.
    const paren = /^\(\s*([^)]*)\)\s*/.exec(rest);
    const inner = paren ? paren[1]!.trim() : rest;
    const spec = SPECIFIER.exec(inner);
    if (paren) {
      if (inner !== '' && (!spec || spec[0].trim() !== inner))
        throw new Error(`${JSON.stringify(line)}: bad version specifier ${JSON.stringify(inner)}`);
      req.specifier = spec ? spec[1]!.replace(/\s+/g, '') : '';
      rest = rest.slice(paren[0].length);
    } else if (spec) {
      req.specifier = spec[1]!.replace(/\s+/g, '');
      rest = rest.slice(spec[0].length);
    }
  }
  if (rest.startsWith(';')) {
    const marker = rest.slice(1).trim();
    if (marker === '') throw new Error(`${JSON.stringify(line)}: \`;\` without a marker`);
    req.marker = marker;
    rest = '';
  }
  if (rest !== '') throw new Error(`${JSON.stringify(line)}: cannot read ${JSON.stringify(rest)}`);
  return req;
}
