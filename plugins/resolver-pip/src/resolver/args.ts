/**
 * What the analysis makes of a pip command line: the dry run to ask pip's resolver for, or the
 * names an uninstall removes, or why it does not apply (then pip just runs).
 */
import { readFileSync, statSync } from 'node:fs';
import { parseRequirement } from './requirement.js';

/** pip's general and install/uninstall options that take the next argument as their value. */
const VALUED = new Set([
  '--python',
  '--log',
  '--log-file',
  '--local-log',
  '--proxy',
  '--retries',
  '--timeout',
  '--exists-action',
  '--trusted-host',
  '--cert',
  '--client-cert',
  '--cache-dir',
  '--use-feature',
  '--use-deprecated',
  '--keyring-provider',
  '-r',
  '--requirement',
  '-c',
  '--constraint',
  '-e',
  '--editable',
  '-t',
  '--target',
  '--platform',
  '--python-version',
  '--implementation',
  '--abi',
  '--root',
  '--prefix',
  '--src',
  '--upgrade-strategy',
  '-C',
  '--config-settings',
  '--global-option',
  '--no-binary',
  '--only-binary',
  '--progress-bar',
  '--root-user-action',
  '--report',
  '-i',
  '--index-url',
  '--extra-index-url',
  '-f',
  '--find-links',
]);

/** Options that install somewhere other than the environment (or only pretend to): no analysis. */
const ELSEWHERE = new Map([
  ['-t', 'installs into a --target directory'],
  ['--target', 'installs into a --target directory'],
  ['--prefix', 'installs under another --prefix'],
  ['--root', 'installs under another --root'],
  ['--user', 'installs into the user site'],
  ['--dry-run', 'is already a dry run'],
]);

const VERBOSE = /^(-v+|--verbose)$/;

/** VCS requirements (`git+https://…`): a dry run would clone them, as the install does again. */
const VCS = /^(git|hg|svn|bzr)\+/;

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * Why pip would have to build or fetch a project for the dry run and again for the install
 * (seconds each, not worth doubling): editable installs, local project directories, VCS URLs.
 */
function buildsTwice(rest: readonly string[]): string | undefined {
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '-e' || arg === '--editable' || arg.startsWith('--editable='))
      return 'installs an editable project (the dry run would build it too)';
    if (arg.startsWith('-')) {
      if (VALUED.has(arg)) i++;
      continue;
    }
    if (VCS.test(arg) || / @ (git|hg|svn|bzr)\+/.test(arg)) return `installs from version control (${arg})`;
    if ((arg.startsWith('.') || arg.includes('/')) && isDirectory(arg))
      return `installs the project in ${arg} (the dry run would build it too)`;
  }
  return undefined;
}

export type Plan =
  | { kind: 'install'; dryRun: string[] }
  | { kind: 'uninstall'; names: string[] }
  | { kind: 'skip'; why: string };

function optionName(arg: string): string {
  return arg.startsWith('--') ? arg.split('=')[0]! : arg;
}

/** The index of the pip subcommand in `args`, or -1. */
function commandIndex(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return -1;
    if (!arg.startsWith('-')) return i;
    if (VALUED.has(arg)) i++;
  }
  return -1;
}

export function planFor(args: readonly string[]): Plan {
  const at = commandIndex(args);
  const command = at === -1 ? undefined : args[at];
  if (command === 'install') {
    for (const arg of args) {
      const why = ELSEWHERE.get(optionName(arg));
      if (why) return { kind: 'skip', why: `this pip install ${why}` };
    }
    const twice = buildsTwice(args.slice(at + 1));
    if (twice) return { kind: 'skip', why: `this pip install ${twice}` };
    // Our options right after the subcommand.
    // The user's verbosity would mix logs into the report, and their own --report is theirs.
    const quiet = (list: readonly string[]) =>
      list.filter(
        (a, i) =>
          !VERBOSE.test(a) && !a.startsWith('--report=') && a !== '--report' && list[i - 1] !== '--report',
      );
    const dryRun = [
      ...quiet(args.slice(0, at + 1)),
      '--dry-run',
      '--report',
      '-',
      '--quiet',
      ...quiet(args.slice(at + 1)),
    ];
    return { kind: 'install', dryRun };
  }
  if (command === 'uninstall') {
    const names: string[] = [];
    const rest = args.slice(at + 1);
    for (let i = 0; i < rest.length; i++) {
      const arg = rest[i]!;
      if (arg === '-r' || arg === '--requirement' || arg.startsWith('--requirement=')) {
        const file = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : rest[++i];
        if (file === undefined) return { kind: 'skip', why: `${arg} without a file` };
        const read = requirementsFile(file);
        if (typeof read === 'string') return { kind: 'skip', why: read };
        names.push(...read);
      } else if (arg.startsWith('-')) {
        if (VALUED.has(arg)) i++;
      } else {
        try {
          names.push(parseRequirement(arg).name);
        } catch {
          return { kind: 'skip', why: `cannot read ${JSON.stringify(arg)} as a requirement` };
        }
      }
    }
    return { kind: 'uninstall', names };
  }
  return { kind: 'skip', why: `pip ${command ?? '(no command)'} is not an install or uninstall` };
}

/** Names in a requirements file (what `pip uninstall -r` removes), or why it cannot be read. */
function requirementsFile(file: string): string[] | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `cannot read ${file}: ${(error as Error).message}`;
  }
  const names: string[] = [];
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || line.startsWith('-')) continue;
    try {
      names.push(parseRequirement(line).name);
    } catch {
      return `cannot read ${JSON.stringify(line)} in ${file}`;
    }
  }
  return names;
}
