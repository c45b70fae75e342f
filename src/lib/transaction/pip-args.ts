/** What a pip command line asks for, as far as a transaction cares. */

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

/** pip's general options that take a value as the next argument (`--log FILE`). */
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
]);

export type PipKind = 'read-only' | 'install' | 'uninstall' | 'other';

/** The pip subcommand (the first argument that is not a general option), if any. */
export function pipCommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (!arg.startsWith('-')) return arg;
    if (VALUED.has(arg)) i++;
  }
  return undefined;
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
