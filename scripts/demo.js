// `npm run demo`: create the `demo` environment and open an activated shell in it (the main job,
// for a newcomer with no shell function installed yet). `exit` leaves the shell.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js');
process.stderr.write(
  'Blast demo: `python -c "import sys; print(sys.prefix)"` shows the environment; `exit` leaves.\n',
);
const result = spawnSync(process.execPath, [bin, 'start', 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
