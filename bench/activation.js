// Activation's cost as a user meets it: `blast start EXISTING` and `blast kill` run through the
// `blast` shell function in a real bash, side by side with a bare `node -e 0` (the floor any Node
// CLI pays), round-robin in one shell so load on the machine hits all three alike.
//
//   node bench/activation.js [--n 21] [--python SPEC] [--settle MS] [--keep]
//
// Goal (issue 15): both ≤ 2× `node -e 0`, medians of the same run. Each round: `node -e 0`, then
// `blast start bench`, `blast kill`, and the same start through oclif (the path every activation
// took before the lean one) and its kill, each timed by bash itself ($EPOCHREALTIME) around the
// call, so the function's own work (mktemp, sourcing the script) counts as the user pays it.
// --settle (default 400 ms) pauses before every timed call: a start spawns the environment's
// daemon (a Node process booting for ~0.1 s of CPU), which would otherwise land on the next call
// on a 2-core machine; a user's next command comes later than that.
// Results: a table on stdout, JSON in bench/results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

function parseArgs(argv) {
  const opts = { n: 21, python: undefined, settle: 400, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--n') opts.n = Number(argv[++i]);
    else if (a === '--python') opts.python = argv[++i];
    else if (a === '--settle') opts.settle = Number(argv[++i]);
    else if (a === '--keep') opts.keep = true;
    else {
      process.stderr.write(`bench: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.settle) || opts.settle < 0) {
    process.stderr.write('bench: --settle wants milliseconds (0 or more)\n');
    process.exit(2);
  }
  if (!Number.isInteger(opts.n) || opts.n < 1) {
    process.stderr.write('bench: --n wants a positive integer\n');
    process.exit(2);
  }
  return opts;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { n: samples.length, median, min: sorted[0], max: sorted.at(-1), samples };
}

const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = mkdtempSync(join(tmpdir(), 'blast-bench-activation-'));
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'VIRTUAL_ENV' || k === 'VIRTUAL_ENV_PROMPT' || k.startsWith('BLAST_')) continue;
    env[k] = v;
  }
  Object.assign(env, {
    HOME: join(tmp, 'home'),
    BLAST_HOME: join(tmp, 'blast'),
    XDG_RUNTIME_DIR: join(tmp, 'run'),
    NO_COLOR: '1',
  });
  mkdirSync(env.HOME, { recursive: true });
  mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  // The function as `blast init bash` prints it, pointing at this checkout's bin/run.js with the
  // Node running this bench.
  const init = spawnSync(process.execPath, [bin, 'init', 'bash'], { env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`blast init bash failed: ${init.stderr}`);
  const fn = init.stdout.replaceAll(quote(bin), `${quote(process.execPath)} ${quote(bin)}`);
  const python = opts.python ? ` --python ${quote(opts.python)}` : '';
  const script = `
set -e
${fn}
t() { sleep ${(opts.settle / 1000).toFixed(3)}; local a=$EPOCHREALTIME; "$@" >/dev/null; local b=$EPOCHREALTIME; echo "$1 $a $b" >&3; }
# Created once, untimed; then every round activates the existing environment.
blast start bench${python} >/dev/null 2>&1
blast kill >/dev/null 2>&1
for ((i = 0; i < ${opts.n}; i++)); do
  t ${quote(process.execPath)} -e 0
  t blast start bench
  [ -n "\${BLAST_SHELL_STATE:-}" ] || { echo "start did not activate" >&2; exit 1; }
  t blast kill
  [ -z "\${BLAST_SHELL_STATE:-}" ] || { echo "kill did not deactivate" >&2; exit 1; }
  # The same start through oclif (a flag the lean path leaves to it; through the function the
  # function's shell is used whatever --shell says): what every activation cost before it.
  t blast start bench --shell bash
  t blast kill
done
`;
  const file = join(tmp, 'bench.sh');
  writeFileSync(file, script);
  process.stderr.write(
    `bench: ${opts.n} rounds of node -e 0, blast start bench, blast kill (bash) in ${tmp}\n`,
  );
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', `exec 3>&1; . ${quote(file)} 1>&2`], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (run.status !== 0) throw new Error(`bench shell failed (${run.status}): ${run.stderr.slice(-2000)}`);
  const times = { node: [], start: [], kill: [], oclifStart: [] };
  // Each round prints: node, start, kill, start through oclif, kill.
  const order = ['node', 'start', 'kill', 'oclifStart', 'kill'];
  run.stdout
    .trim()
    .split('\n')
    .forEach((line, i) => {
      const [, a, b] = line.split(' ');
      times[order[i % order.length]].push((Number(b) - Number(a)) * 1000);
    });
  const node = stats(times.node);
  const start = stats(times.start);
  const kill = stats(times.kill);
  const oclifStart = stats(times.oclifStart);
  const ratios = {
    start: start.median / node.median,
    kill: kill.median / node.median,
    oclifStart: oclifStart.median / node.median,
  };
  const fmt = (ms) => `${ms.toFixed(1)} ms`;
  process.stdout.write(
    [
      `node -e 0            ${fmt(node.median)}`,
      `blast start EXISTING ${fmt(start.median)}  (${ratios.start.toFixed(2)}× node -e 0)`,
      `blast kill           ${fmt(kill.median)}  (${ratios.kill.toFixed(2)}× node -e 0)`,
      `blast start EXISTING through oclif (before the lean path) ${fmt(oclifStart.median)}  (${ratios.oclifStart.toFixed(2)}× node -e 0)`,
      `medians of ${opts.n} rounds, round-robin in one bash through the blast function; goal ≤ 2.00×: ` +
        (ratios.start <= 2 && ratios.kill <= 2 ? 'met' : 'NOT met'),
      '',
    ].join('\n'),
  );
  const out = join(repo, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const date = new Date().toISOString();
  writeFileSync(
    join(out, `activation-${date.replace(/[:.]/g, '-')}.json`),
    JSON.stringify(
      { date, node: process.version, rounds: opts.n, node0: node, start, kill, oclifStart, ratios },
      null,
      2,
    ) + '\n',
  );
  if (!opts.keep) rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

main();
