/** pyvenv.cfg: written the way `python -m venv` writes it, read the way site.py reads it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';

/** Python's repr() of a str (venv writes `prompt = <repr>`). */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && /^[\p{C}\p{Z}]$/u.test(ch)) {
      if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else out += `\\U${cp.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/** The value of a Python string literal as repr() writes it; anything else is returned as is. */
export function pyUnrepr(text: string): string {
  const q = text[0];
  if (text.length < 2 || (q !== "'" && q !== '"') || text.at(-1) !== q) return text;
  const body = text.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/gsu, (_m, esc: string) => {
    switch (esc[0]) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'x':
      case 'u':
      case 'U':
        return esc.length > 1 ? String.fromCodePoint(parseInt(esc.slice(1), 16)) : esc;
      default:
        return esc;
    }
  });
}

export interface CfgInput {
  /** Directory of the base interpreter (dirname of the path venvs link to). */
  home: string;
  /** `X.Y.Z` as venv writes it (sys.version_info[:3]). */
  version: string;
  /** realpath of the base interpreter. */
  executable: string;
  /** The interpreter as invoked (what `command` shows). */
  invokedAs: string;
  /** The venv's final directory. */
  dir: string;
  prompt?: string;
}

/** The text of pyvenv.cfg, line for line what Python 3.13's venv writes (with pip, symlinks). */
export function renderCfg(c: CfgInput): string {
  const lines = [`home = ${c.home}`, 'include-system-site-packages = false', `version = ${c.version}`];
  if (c.prompt !== undefined) lines.push(`prompt = ${pyRepr(c.prompt)}`);
  lines.push(`executable = ${c.executable}`);
  // venv writes the prompt raw in `command`; a control character would break the line, so it is left out then.
  const promptArg = c.prompt !== undefined && !/\p{C}/u.test(c.prompt) ? ` --prompt="${c.prompt}"` : '';
  lines.push(`command = ${c.invokedAs} -m venv${promptArg} ${c.dir}`);
  return lines.join('\n') + '\n';
}

/** Parsed pyvenv.cfg. */
export interface VenvInfo {
  /** The venv directory, as given. */
  dir: string;
  cfgPath: string;
  /** The base interpreter's directory. */
  home: string;
  /** `X.Y.Z`, or undefined if the file does not say (venvs made by Python < 3.6... or by hand). */
  version?: string;
  /** The base interpreter (realpath), when recorded. */
  executable?: string;
  command?: string;
  /** The prompt, unquoted. */
  prompt?: string;
  includeSystemSitePackages: boolean;
  /** `<dir>/bin/python`. */
  python: string;
  /** Every key (lower-cased) and its raw value. */
  values: Record<string, string>;
}

/** Read `<dir>/pyvenv.cfg`: BlastError if it is missing or not a valid venv config. */
export function readVenv(dir: string): VenvInfo {
  const cfgPath = join(dir, 'pyvenv.cfg');
  let text: string;
  try {
    text = readFileSync(cfgPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new BlastError(`${dir} is not a virtual environment: ${cfgPath} is missing.`, ExitCode.notFound);
    }
    throw new BlastError(`Cannot read ${cfgPath}: ${(error as Error).message}`, ExitCode.failure);
  }
  return parseCfg(text, dir);
}

/** pyvenv.cfg text as site.py reads it (`key = value`, keys case-insensitive); BlastError without `home`. */
export function parseCfg(text: string, dir: string): VenvInfo {
  const cfgPath = join(dir, 'pyvenv.cfg');
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    if (key) values[key] = line.slice(eq + 1).trim();
  }
  const home = values.home;
  if (!home || text.includes('\0')) {
    throw new BlastError(
      `${cfgPath} is corrupt: it has no "home = ..." line.`,
      ExitCode.failure,
      'Recreate the environment.',
    );
  }
  const info: VenvInfo = {
    dir,
    cfgPath,
    home,
    includeSystemSitePackages: (values['include-system-site-packages'] ?? 'false').toLowerCase() === 'true',
    python: join(dir, 'bin', 'python'),
    values,
  };
  const version = values.version ?? values.version_info;
  if (version) info.version = version;
  if (values.executable) info.executable = values.executable;
  if (values.command) info.command = values.command;
  if (values.prompt !== undefined) info.prompt = pyUnrepr(values.prompt);
  return info;
}
