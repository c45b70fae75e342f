// `npm run demo`: create the `demo` environment and open an activated shell in it (the main job,
// for a newcomer with no shell function installed yet). `exit` leaves the shell; then it says how
// to have `blast` in one's own shell.
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userBin } from '../dist/lib/cli/user-bin.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'run.js');
process.stderr.write(
  'Blast demo: `python -c "import sys; print(sys.prefix)"` shows the environment; `exit` leaves.\n',
);
const result = spawnSync(process.execPath, [bin, 'start', 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.stderr.write(`\n${howToRun(process.env)}`);
process.exit(result.status ?? 1);

/** How to get `blast` in one's own shell from here, true to what is on PATH now. */
function howToRun(env) {
  const quote = (s) => (/^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  if (userBin(root, env) === 'blast') {
    return (
      '`blast` on your PATH is this checkout. To activate environments in your own shell:\n' +
      '  blast init --install     adds the blast shell function to your rc file; open a new shell\n'
    );
  }
  const here = relative(process.cwd(), bin);
  const local = here && !here.startsWith('..') ? `./${here}` : bin;
  return (
    '`blast` is not on your PATH. Either:\n' +
    `  ${quote(local)} init --install\n` +
    '      adds the blast shell function to your rc file (it runs this checkout by its full path);\n' +
    '      open a new shell, and `blast start demo` activates in it\n' +
    `  npm link   (in ${quote(root)})\n` +
    "      puts a `blast` command on PATH (npm's global bin directory); then `blast init --install`\n"
  );
}
