/**
 * The resolver's per-environment settings (declared through the `settings` event, stored by the
 * core in the environment's blast.json) and what they mean here.
 */
import type { SettingSpec, Settings } from 'blast/contract';
import { parseRequirement } from './requirement.js';

export const DOWNGRADES = ['allow', 'confirm', 'forbid'] as const;
export const CONSISTENCY = ['warn', 'strict'] as const;

export interface Policy {
  /** PEP 508 lines for pip's constraints file. */
  constraints: string[];
  /** allow: never ask; confirm: ask on a terminal for risky changes; forbid: veto any downgrade. */
  downgrades: (typeof DOWNGRADES)[number];
  /** warn: a failing `pip check` after an install is a warning; strict: the install is rolled back. */
  consistency: (typeof CONSISTENCY)[number];
}

/** Check one constraint line: one requirement with a name, nothing pip would read as an option. */
export function parseConstraint(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error('a constraint is one line');
  const text = value.trim();
  if (text === '') throw new Error('a constraint cannot be empty');
  let req;
  try {
    req = parseRequirement(text);
  } catch (error) {
    throw new Error(`not a requirement: ${(error as Error).message} (expected e.g. 'django<5')`, {
      cause: error,
    });
  }
  // pip refuses extras in constraints ("Constraints cannot have extras").
  if (req.extras.length > 0) throw new Error(`${JSON.stringify(text)}: constraints cannot have extras`);
  return text;
}

function choice<T extends string>(options: readonly T[], what: string) {
  return (value: string): string => {
    if (!(options as readonly string[]).includes(value))
      throw new Error(`${what} is one of ${options.join(', ')}, not ${JSON.stringify(value)}`);
    return value;
  };
}

export const SETTINGS: SettingSpec[] = [
  {
    name: 'constraint',
    description:
      "A version constraint every pip call in the environment honours (PEP 508, e.g. 'django<5'); repeatable.",
    type: 'string',
    multiple: true,
    helpValue: 'SPEC',
    parse: parseConstraint,
  },
  {
    name: 'downgrades',
    description:
      'Before pip installs: allow (show the impact, never ask), confirm (ask on a terminal before a downgrade, removal, major version jump or broken requirement; the default) or forbid (refuse any downgrade).',
    type: 'string',
    options: DOWNGRADES,
    helpValue: 'POLICY',
    parse: choice(DOWNGRADES, 'downgrades'),
  },
  {
    name: 'consistency',
    description:
      'After pip installs: warn (the default) or strict (roll the install back) when `pip check` finds broken requirements.',
    type: 'string',
    options: CONSISTENCY,
    helpValue: 'POLICY',
    parse: choice(CONSISTENCY, 'consistency'),
  },
];

const oneOf = <T extends string>(options: readonly T[], value: unknown, fallback: T): T =>
  typeof value === 'string' && (options as readonly string[]).includes(value) ? (value as T) : fallback;

export function policyOf(settings: Settings | undefined): Policy {
  const raw = settings?.constraint;
  const constraints = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).filter(
    (c): c is string => typeof c === 'string' && c.trim() !== '',
  );
  return {
    constraints,
    downgrades: oneOf(DOWNGRADES, settings?.downgrades, 'confirm'),
    consistency: oneOf(CONSISTENCY, settings?.consistency, 'warn'),
  };
}
