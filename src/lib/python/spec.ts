/** `--python` values: what a user may write, parsed before anything is looked up. */
import { BlastError, ExitCode } from '../cli/errors.js';

export type PythonSpec =
  /** No --python: what `python3` on PATH resolves to. */
  | { kind: 'default' }
  /** A file (or a directory holding bin/python3): contains `/` or starts with `~`. */
  | { kind: 'path'; path: string }
  /** `3`, `3.12`, `3.12.1`: a prefix of the release numbers. */
  | { kind: 'version'; release: number[] }
  /** `3.13.0rc1`: exactly that version. */
  | { kind: 'exact'; version: string }
  /** A PEP 440 specifier: `>=3.10,<3.13`, `~=3.11`, `==3.12.*`. */
  | { kind: 'specifier'; specifier: string }
  /** `python3.11`, `pypy3`: an executable of that name on PATH; `pythonX.Y` else means version X.Y. */
  | { kind: 'name'; name: string; orVersion?: number[] };

export const SPEC_FORMS =
  'a path (/usr/bin/python3, ~/py/bin/python), a version (3, 3.12, 3.12.1), a PEP 440 specifier (>=3.10,<3.13) or a name (python3.11)';

export function parseSpec(spec: string | undefined): PythonSpec {
  if (spec === undefined) return { kind: 'default' };
  const text = spec.trim();
  if (text === '') throw new BlastError('--python is empty.', ExitCode.usage, `Give ${SPEC_FORMS}.`);
  if (text.includes('/') || (text.startsWith('~') && !text.startsWith('~=')))
    return { kind: 'path', path: text };
  if (/^\d+(\.\d+){0,2}$/.test(text)) return { kind: 'version', release: text.split('.').map(Number) };
  if (/^\d+\.\d+\.\d+(a|b|rc)\d+$/.test(text)) return { kind: 'exact', version: text };
  if (/^[<>=!~]/.test(text) || text.includes(',')) return { kind: 'specifier', specifier: text };
  if (/^[A-Za-z_][A-Za-z0-9_.+-]*$/.test(text)) {
    const m = /^python(\d+(?:\.\d+)?)$/.exec(text);
    return m
      ? { kind: 'name', name: text, orVersion: (m[1] as string).split('.').map(Number) }
      : { kind: 'name', name: text };
  }
  throw invalidSpec(text);
}

export function invalidSpec(text: string, why?: string): BlastError {
  return new BlastError(
    `Invalid --python ${JSON.stringify(text)}${why ? `: ${why}` : ''}.`,
    ExitCode.usage,
    `Give ${SPEC_FORMS}.`,
  );
}

export function describeSpec(spec: PythonSpec): string {
  switch (spec.kind) {
    case 'default':
      return 'the default python3';
    case 'path':
      return spec.path;
    case 'version':
      return `Python ${spec.release.join('.')}`;
    case 'exact':
      return `Python ${spec.version}`;
    case 'specifier':
      return `Python ${spec.specifier}`;
    case 'name':
      return spec.name;
  }
}

/**
 * Whether an interpreter of `version` (X.Y.Z, maybe with a pre-release) satisfies the --python
 * text, decided from the version alone; undefined when the spec names a path or a program, which
 * the version cannot answer.
 */
export async function versionSatisfies(text: string, version: string): Promise<boolean | undefined> {
  const spec = parseSpec(text);
  const release = version
    .split(/[^\d.]/)[0]!
    .split('.')
    .map(Number);
  const prefix = (wanted: number[]) => wanted.every((n, k) => release[k] === n);
  switch (spec.kind) {
    case 'version':
      return prefix(spec.release);
    case 'exact':
      return version === spec.version;
    case 'name':
      return spec.orVersion ? prefix(spec.orVersion) : undefined;
    case 'specifier': {
      const pep440 = await import('@renovatebot/pep440');
      return pep440.satisfies(version, spec.specifier, { prereleases: true });
    }
    default:
      return undefined;
  }
}
