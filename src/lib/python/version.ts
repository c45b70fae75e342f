/** Python's own version numbers: sys.version_info, compared and printed the PEP 440 way. */
import type { ProbeFacts } from './types.js';

const LEVELS: Record<string, { rank: number; tag: string }> = {
  alpha: { rank: 0, tag: 'a' },
  beta: { rank: 1, tag: 'b' },
  candidate: { rank: 2, tag: 'rc' },
  final: { rank: 3, tag: '' },
};

/** `3.12.1`, `3.13.0rc1`. */
export function versionString(info: ProbeFacts['versionInfo']): string {
  const [major, minor, micro, level, serial] = info;
  const tag = LEVELS[level]?.tag ?? '';
  return `${major}.${minor}.${micro}${tag ? `${tag}${serial}` : ''}`;
}

/** Negative when a < b, like Array.prototype.sort wants. */
export function compareVersionInfo(a: ProbeFacts['versionInfo'], b: ProbeFacts['versionInfo']): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  const la = LEVELS[a[3]]?.rank ?? 3;
  const lb = LEVELS[b[3]]?.rank ?? 3;
  if (la !== lb) return la - lb;
  return a[4] - b[4];
}

/** Why an interpreter cannot host a PEP 405 venv, or undefined when it can. */
export function unsupportedReason(facts: ProbeFacts): string | undefined {
  const [major, minor] = facts.versionInfo;
  if (major < 3 || (major === 3 && minor < 3)) {
    return `Python ${versionString(facts.versionInfo)} cannot run a PEP 405 virtual environment (Python 3.3 or newer is needed)`;
  }
  if (facts.osName !== 'posix')
    return `Python for ${facts.platform} (os.name ${facts.osName}) is not supported`;
  return undefined;
}
