// `node bench/install.js [--n 5] [--python 3.11] [--set science] [--only NAME,...] [--keep]`: installs
// through Blast against plain pip, side by side in one run, whole processes, round-robin, medians
// and ratios, JSON in bench/results/. pip's default index is unreachable here: pip is pointed at the
// machine's local index explicitly (BENCH_INDEX_URL, default file:///opt/pypi/simple).
//
// A list of scenarios; each has a set-up (untimed, once) and peers, each peer a `prepare` (untimed,
// before every timed run) and a `run` (timed). Add a scenario by adding an entry to SCENARIOS.
//
// - lock: `blast load --lock` of the set into a fresh environment while another environment (the
//   source) already has it, with NO index at all (PIP_NO_INDEX=1, no find-links, no pip config),
//   against `pip install -r` of the same pinned set into a fresh control venv (python -m venv).
// - rollback: the set uninstalled from the source, then `blast load` of its snapshot, against a
//   plain `cp -al` of the same trees (the physical floor: one hard link per file). Each timed run
//   starts settled (lib.js settle): its set-up's deletes written out, the daemon done with them.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, localIndexEnv, median, settle, timedRunner } from './lib.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

const opts = { n: 5, python: '3.11', set: 'science', only: undefined, keep: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--n') opts.n = Number(process.argv[++i]);
  else if (a === '--python') opts.python = process.argv[++i];
  else if (a === '--set') opts.set = process.argv[++i];
  else if (a === '--only') opts.only = process.argv[++i].split(',');
  else if (a === '--keep') opts.keep = true;
  else {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

const SETS = { science: ['numpy', 'pandas', 'scipy'], web: ['requests', 'flask', 'rich'] };
const packages = SETS[opts.set];
if (!packages) {
  process.stderr.write(`bench: unknown set ${opts.set} (${Object.keys(SETS).join(', ')})\n`);
  process.exit(2);
}

const root = mkdtempSync(join(tmpdir(), 'blast-bench-install-'));
const env = localIndexEnv(root);
const emptyDir = join(root, 'no wheels');
mkdirSync(emptyDir);
/** pip with nothing to find anything in: no index, no find-links, not even the machine's pip config. */
const offline = {
  ...env,
  PIP_CONFIG_FILE: '/dev/null',
  PIP_NO_INDEX: '1',
  PIP_FIND_LINKS: emptyDir,
};
delete offline.PIP_INDEX_URL;

const run = timedRunner(env);
const blast = (args, options) => run(process.execPath, [bin, ...args], options);
let fresh = 0;
/** A new Blast environment (untimed), by name. */
function startEnv(name) {
  const script = join(root, `${name}.sh`);
  writeFileSync(script, '');
  blast(['start', name, '--python', opts.python], {
    env: { ...env, BLAST_SHELL: 'bash', BLAST_SHELL_SCRIPT: script, BLAST_SHELL_PID: String(process.pid) },
  });
  return join(env.BLAST_HOME, 'envs', name);
}

/** The source environment: the set installed by pip, pinned, locked with hashes, snapshotted. */
const shared = {};
function source() {
  if (shared.env) return shared;
  const envPath = startEnv('bench-source');
  const pip = join(envPath, 'bin', 'pip');
  run(pip, ['install', '-q', ...packages]);
  const pinned = run(pip, ['freeze', '--all'])
    .stdout.split('\n')
    .filter((l) => l && !/^(pip|setuptools|wheel)==/.test(l));
  const req = join(root, 'pinned.txt');
  writeFileSync(req, pinned.join('\n') + '\n');
  const lock = join(root, 'requirements.lock.txt');
  blast(['save', '--env', 'bench-source', 'pinned', '--lock', lock]);
  const sp = join(
    envPath,
    'lib',
    readdirSync(join(envPath, 'lib')).find((n) => n.startsWith('python')),
    'site-packages',
  );
  Object.assign(shared, { env: envPath, pip, req, lock, sitePackages: sp, distributions: pinned.length });
  return shared;
}

const SCENARIOS = [
  {
    name: 'lock',
    what: `blast load --lock (offline, another env has the set) vs pip install -r into a control venv`,
    setup() {
      const s = source();
      const python = run(join(s.env, 'bin', 'python'), [
        '-c',
        'import sys; print(sys._base_executable)',
      ]).stdout.trim();
      return { ...s, python };
    },
    peers: {
      'blast load --lock': {
        prepare: (ctx) => {
          ctx.target = `bench-lock-${++fresh}`;
          startEnv(ctx.target);
        },
        run: (ctx) => {
          const r = blast(['load', '--env', ctx.target, '--lock', ctx.lock, '--json'], { env: offline });
          const out = JSON.parse(r.stdout);
          if (out.pipRan) throw new Error('pip ran: the store did not serve everything');
          return r.ms;
        },
      },
      'pip install -r': {
        prepare: (ctx) => {
          ctx.control = join(root, `control-${++fresh}`);
          run(ctx.python, ['-m', 'venv', ctx.control]);
        },
        run: (ctx) =>
          run(join(ctx.control, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '-r', ctx.req]).ms,
      },
    },
  },
  {
    name: 'rollback',
    what: 'blast load of a snapshot right after uninstalling the set vs cp -al of the same trees',
    setup() {
      const s = source();
      // The same trees, hard-linked aside once: what cp -al copies each round.
      const trees = join(root, 'trees');
      mkdirSync(join(trees, 'site-packages'), { recursive: true });
      const names = readdirSync(s.sitePackages).filter(
        (n) => !/^(pip|_distutils_hack|distutils-precedence\.pth|setuptools|pkg_resources)([-.]|$)/.test(n),
      );
      for (const n of names) run('cp', ['-al', join(s.sitePackages, n), join(trees, 'site-packages', n)]);
      return { ...s, trees };
    },
    peers: {
      'blast load': {
        prepare: (ctx) => {
          run(ctx.pip, ['uninstall', '-y', '-q', '-r', ctx.req]);
          settle();
        },
        run: () => blast(['load', '--env', 'bench-source', 'pinned']).ms,
      },
      'cp -al': {
        prepare: () => {
          rmSync(join(root, 'cp-target'), { recursive: true, force: true });
          settle();
        },
        run: (ctx) => run('cp', ['-al', ctx.trees, join(root, 'cp-target')]).ms,
      },
    },
  },
];

const results = [];
try {
  for (const scenario of SCENARIOS) {
    if (opts.only && !opts.only.includes(scenario.name)) continue;
    const ctx = scenario.setup();
    const times = Object.fromEntries(Object.keys(scenario.peers).map((p) => [p, []]));
    for (let i = 0; i < opts.n; i++)
      for (const [name, peer] of Object.entries(scenario.peers)) {
        peer.prepare(ctx);
        times[name].push(peer.run(ctx));
      }
    const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    const [a, b] = Object.keys(scenario.peers);
    results.push({
      scenario: scenario.name,
      what: scenario.what,
      packages,
      distributions: ctx.distributions,
      runs: opts.n,
      times,
      medians,
      // The first peer against the second: a speedup (lock) or a multiple of the floor (rollback).
      ratio: { [`${b} / ${a}`]: medians[b] / medians[a], [`${a} / ${b}`]: medians[a] / medians[b] },
    });
  }
} finally {
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
  else process.stderr.write(`bench: kept ${root}\n`);
}

for (const r of results) {
  const [a, b] = Object.keys(r.medians);
  console.log(
    `${r.scenario} (${r.packages.join('+')}, ${r.distributions} distributions): ${a} ${fmt(r.medians[a])}, ` +
      `${b} ${fmt(r.medians[b])}; ${b}/${a} = ${(r.medians[b] / r.medians[a]).toFixed(2)}x, ` +
      `${a}/${b} = ${(r.medians[a] / r.medians[b]).toFixed(2)}x`,
  );
}
console.log(`medians of ${opts.n} runs each, whole processes, round-robin`);
const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(out, `install-${stamp}.json`),
  JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n',
);
