// `node bench/pip-install.js [--n 7] [--python 3.11] [--only NAME,...] [--keep]`: `pip install` through
// Blast (the shim's `blast pip -- install …`, resolver-pip and the daemon on, as after `blast start`)
// against plain `python -m pip install` in the same environment, round-robin, whole processes.
//
// pip's index is out of reach here: the wheels each scenario needs are copied once from the
// machine's local index (`pip download`) into one directory, and every timed install uses
// `--no-index --find-links DIR` with pip's configuration files off (PIP_CONFIG_FILE=/dev/null), for
// both peers alike. Each scenario is a list entry: `setup` (untimed, once), `reset` (untimed,
// before every timed run) and the pip arguments both peers run. Results: a table on stdout, JSON in
// bench/results/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_INDEX, fmt, median, timedRunner } from './lib.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

const opts = { n: 7, python: '3.11', keep: false, only: undefined };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--n') opts.n = Number(process.argv[++i]);
  else if (a === '--python') opts.python = process.argv[++i];
  else if (a === '--only') opts.only = process.argv[++i].split(',');
  else if (a === '--keep') opts.keep = true;
  else {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

const root = mkdtempSync(join(tmpdir(), 'blast-bench-install-'));
const wheels = join(root, 'wheels');
const env = {
  ...process.env,
  NO_COLOR: '1',
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  PIP_CONFIG_FILE: '/dev/null',
};
// Only the settings above: the machine's PIP_FIND_LINKS and friends would add to both peers' work.
for (const k of Object.keys(env))
  if (
    (k.startsWith('PIP_') && !(k in { PIP_DISABLE_PIP_VERSION_CHECK: 1, PIP_CONFIG_FILE: 1 })) ||
    k.startsWith('BLAST_') ||
    k === 'VIRTUAL_ENV'
  )
    delete env[k];
env.BLAST_HOME = join(root, 'home');

const run = timedRunner(env);

/** `blast start NAME` as the shell function runs it (the daemon starts); returns the env's path. */
function start(name) {
  const script = join(root, `${name}.sh`);
  writeFileSync(script, '');
  run(process.execPath, [bin, 'start', name, '--python', opts.python], {
    env: { ...env, BLAST_SHELL: 'bash', BLAST_SHELL_SCRIPT: script, BLAST_SHELL_PID: String(process.pid) },
  });
  return join(env.BLAST_HOME, 'envs', name);
}

const local = ['--no-index', '--find-links', wheels];
const python = (envPath) => join(envPath, 'bin', 'python');
const plainPip = (envPath, args) => run(python(envPath), ['-m', 'pip', ...args]);
/** What the shim runs for `pip ARGS` in an active environment. */
const blastPip = (envPath, args) =>
  run(process.execPath, [bin, 'pip', '--', ...args], { env: { ...env, VIRTUAL_ENV: envPath } });
const uninstall = (envPath, names) => plainPip(envPath, ['uninstall', '-y', '-q', ...names]);

const FLASK = ['flask', 'werkzeug', 'jinja2', 'itsdangerous', 'click', 'blinker', 'markupsafe'];
const SCIENCE = ['numpy', 'pandas', 'scipy', 'python-dateutil', 'pytz', 'tzdata', 'six'];

/**
 * Each scenario: peers run `args` in environments `envs()` gives (`{ blast, plain }`, the same one
 * unless the scenario needs a control venv), after `reset` put it back to its starting point.
 */
const SCENARIOS = [
  {
    name: 'flask',
    what: 'pip install flask (7 distributions) into an environment without them',
    args: ['install', '-q', ...local, 'flask'],
    reset: (envPath) => uninstall(envPath, FLASK),
  },
  {
    name: 'numpy-pandas',
    what: 'pip install numpy pandas (6 distributions, ~100 MB unpacked)',
    args: ['install', '-q', ...local, 'numpy', 'pandas'],
    reset: (envPath) => uninstall(envPath, SCIENCE),
  },
  {
    name: 'one-wheel',
    what: 'pip install six (one small wheel, no dependencies)',
    args: ['install', '-q', ...local, 'six'],
    reset: (envPath) => uninstall(envPath, ['six']),
  },
  {
    name: 'no-op',
    what: 'pip install flask when flask and its dependencies are installed already',
    args: ['install', '-q', ...local, 'flask'],
    setup: (envPath) => plainPip(envPath, ['install', '-q', ...local, 'flask']),
    reset: () => {},
  },
];

/**
 * Store-served: `pip install numpy pandas scipy` into a fresh environment through Blast while
 * another environment already has the set (in the store), against plain pip into a fresh control
 * venv. Fresh each run: a new environment for each peer (made untimed).
 */
const SCIENCE_SET = ['install', '-q', ...local, 'numpy', 'pandas', 'scipy'];
let fresh = 0;
function storeServed() {
  const donor = start('bench-donor');
  blastPip(donor, SCIENCE_SET);
  const times = { blast: [], pip: [] };
  for (let i = 0; i < opts.n; i++) {
    const order = i % 2 === 0 ? ['pip', 'blast'] : ['blast', 'pip'];
    for (const who of order) {
      const envPath = start(`bench-fresh-${fresh++}`);
      times[who].push((who === 'blast' ? blastPip : plainPip)(envPath, SCIENCE_SET).ms);
    }
  }
  const m = { blast: median(times.blast), pip: median(times.pip) };
  return {
    scenario: 'store-served',
    what: 'pip install numpy pandas scipy into a fresh environment, another environment having the set (Blast) vs a fresh venv (plain pip)',
    runs: opts.n,
    times,
    median: m,
    ratio: m.blast / m.pip,
    speedup: m.pip / m.blast,
  };
}

const results = [];
try {
  // The wheels, once, from the machine's local index (its pip configuration), into one directory.
  run(
    python(start('bench-seed')),
    [
      '-m',
      'pip',
      'download',
      '-q',
      '-d',
      wheels,
      '--only-binary',
      ':all:',
      'flask',
      'numpy',
      'pandas',
      'scipy',
      'six',
    ],
    // The machine's local index only: pip's default index (PyPI) is out of reach and would be retried for minutes.
    {
      env: {
        ...process.env,
        PIP_DISABLE_PIP_VERSION_CHECK: '1',
        PIP_INDEX_URL: LOCAL_INDEX,
      },
    },
  );
  const envPath = start('bench-install');
  for (const s of SCENARIOS) {
    if (opts.only && !opts.only.includes(s.name)) continue;
    s.setup?.(envPath);
    // Warm pip's caches and the page cache, untimed, through both.
    for (const peer of [plainPip, blastPip]) {
      s.reset(envPath);
      peer(envPath, s.args);
    }
    const times = { blast: [], pip: [] };
    for (let i = 0; i < opts.n; i++) {
      // Alternate which peer goes first, so neither always runs on a just-warmed cache.
      const order = i % 2 === 0 ? ['pip', 'blast'] : ['blast', 'pip'];
      for (const who of order) {
        s.reset(envPath);
        times[who].push((who === 'blast' ? blastPip : plainPip)(envPath, s.args).ms);
      }
    }
    const m = { blast: median(times.blast), pip: median(times.pip) };
    results.push({ scenario: s.name, what: s.what, runs: opts.n, times, median: m, ratio: m.blast / m.pip });
  }
  if (!opts.only || opts.only.includes('store-served')) results.push(storeServed());
} finally {
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
  else process.stderr.write(`bench: kept ${root}\n`);
}

console.log(['SCENARIO', 'PLAIN PIP', 'THROUGH BLAST', 'BLAST/PIP', 'PIP/BLAST'].join('\t'));
for (const r of results)
  console.log(
    [
      r.scenario,
      fmt(r.median.pip),
      fmt(r.median.blast),
      `${r.ratio.toFixed(2)}x`,
      `${(1 / r.ratio).toFixed(2)}x`,
    ].join('\t'),
  );
console.log(
  `medians of ${opts.n} runs each, round-robin, whole processes, local wheels (--no-index --find-links)`,
);
const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(out, `pip-install-${stamp}.json`),
  JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n',
);
