/** What a pip command line asks for, as far as a transaction cares. */
import type { PipCommandLine } from '../plugin-host/contract.js';

export type { PipCommandLine };

/** pip commands that never change an environment: they run without a snapshot or hooks. */
export const READ_ONLY = new Set([
  'list',
  'show',
  'freeze',
  'help',
  'check',
  'config',
  'cache',
  'download',
  'hash',
  'inspect',
  'index',
  'debug',
  'wheel',
  'completion',
]);

/**
 * pip's options that take a value as the next argument (`--log FILE`, `-r FILE`): the general ones
 * and install's and uninstall's. The one table of them (plugins get the parsed command line as
 * `InstallEvent.pip`, API 1.5, instead of a copy of it).
 */
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

/** Short options by their long name (what `PipCommandLine.options` is keyed by). */
const SHORT: Record<string, string> = {
  '-r': 'requirement',
  '-c': 'constraint',
  '-e': 'editable',
  '-t': 'target',
  '-C': 'config-settings',
  '-i': 'index-url',
  '-f': 'find-links',
  '-q': 'quiet',
  '-v': 'verbose',
  '-U': 'upgrade',
  '-I': 'ignore-installed',
  '-y': 'yes',
  '-h': 'help',
  '-V': 'version',
};

/** Parse pip's arguments; unknown options are kept as flags (pip itself judges them). */
export function parsePip(args: readonly string[]): PipCommandLine {
  const parsed: PipCommandLine = { requirements: [], options: {}, verbosity: 0 };
  const add = (name: string, value: string) => (parsed.options[name] ??= []).push(value);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      parsed.requirements.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg : arg.slice(0, eq);
      if (eq !== -1) add(name.slice(2), arg.slice(eq + 1));
      else if (VALUED.has(name)) add(name.slice(2), args[++i] ?? '');
      else add(name.slice(2), '');
    } else if (arg.startsWith('-') && arg.length > 1) {
      // Short options: `-r FILE`, `-rFILE`, or flags run together (`-qq`, `-Uq`).
      for (let j = 1; j < arg.length; j++) {
        const short = `-${arg[j]}`;
        const name = SHORT[short] ?? arg[j]!;
        if (VALUED.has(short)) {
          add(name, j + 1 < arg.length ? arg.slice(j + 1) : (args[++i] ?? ''));
          break;
        }
        add(name, '');
      }
    } else if (parsed.command === undefined) parsed.command = arg;
    else parsed.requirements.push(arg);
  }
  parsed.verbosity = (parsed.options.verbose?.length ?? 0) - (parsed.options.quiet?.length ?? 0);
  return parsed;
}

export type PipKind = 'read-only' | 'install' | 'uninstall' | 'other';

/** The pip subcommand (the first argument that is not a general option), if any. */
export function pipCommand(args: readonly string[]): string | undefined {
  return parsePip(args).command;
}

export function classifyPip(args: readonly string[]): PipKind {
  const command = pipCommand(args);
  // `pip`, `pip --version`, `pip -h`, `pip install --help`: they only print.
  if (command === undefined || READ_ONLY.has(command)) return 'read-only';
  if (args.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version')) return 'read-only';
  if (command === 'install') return 'install';
  if (command === 'uninstall') return 'uninstall';
  return 'other';
}
