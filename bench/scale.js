// `node bench/scale.js [--only NAME,...] [--settle 12] [--idle 10]`: what Blast costs when a machine
// collects environments and keeps many terminals open (issue 16). A list of scenarios, each one
// `{ name, goal, run(ctx) }` returning rows and whether its goal is met; run in order, printed as a
// table, JSON in bench/results/scale-<date>.json. Add a scenario by appending to SCENARIOS.
//
// Daemon scenarios (real CLI, real bash shells running the real `blast` function, each shell with
// its own environment active):
//   daemon-memory   1, 5 and 10 shells with 1, 5, 10 different environments active: how many
//                   daemon processes, their RSS together (VmRSS from /proc, read from outside),
//                   their CPU over an idle window after --settle seconds. Goal: 10 environments
//                   ≤ 60 MiB for all daemons together, idle CPU ≈ 0 (≤ 0.1 % of one CPU: no
//                   polling loops; the kernel counts CPU in 10 ms ticks).
//   daemon-50k      the same with 10 environments, one of which holds 50,000 files (500
//                   distributions of 99 files each, as pip lays them out): the watcher holds no
//                   per-file state, so the figure stays within the same goal.
// Requires `npm run build` first. Everything lives in a temp dir; every shell and daemon is stopped.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

const opts = { only: undefined, settle: 12, idle: 10 };
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--only') opts.only = process.argv[++i].split(',');
  else if (process.argv[i] === '--settle') opts.settle = Number(process.argv[++i]);
  else if (process.argv[i] === '--idle') opts.idle = Number(process.argv[++i]);
  else {
    process.stderr.write(`bench/scale: unknown argument ${process.argv[i]}\n`);
    process.exit(2);
  }
}

const root = mkdtempSync(join(tmpdir(), 'blast-bench-scale-'));
const cache = join(tmpdir(), `blast-test-cache-${process.getuid?.() ?? 0}`);
mkdirSync(cache, { recursive: true });

/** A private Blast: its own HOME, BLAST_HOME and runtime dir. */
function box(name) {
  const dir = join(root, name);
  const home = join(dir, 'home');
  const run = join(dir, 'run');
  mkdirSync(home, { recursive: true });
  mkdirSync(run, { mode: 0o700 });
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('BLAST_') || k.startsWith('VIRTUAL_ENV')) delete env[k];
  Object.assign(env, {
    HOME: home,
    BLAST_HOME: join(dir, 'blast'),
    BLAST_CACHE_DIR: cache,
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: run,
  });
  const b = { dir, env, shells: [] };
  boxes.push(b);
  return b;
}
const boxes = [];

let shellCount = 0;
/** A real bash with the `blast` function that starts `name` and stays; resolves once started. */
async function openShell(b, name) {
  const d = join(b.dir, `shell-${++shellCount}`);
  mkdirSync(d);
  const script = `eval "$(node ${JSON.stringify(bin)} init bash)"
blast start ${name} 2>"$D/err"; echo $? >"$D/rc"
while :; do sleep 1; done`;
  const proc = spawn('bash', ['--norc', '--noprofile', '-c', script], {
    env: { ...b.env, D: d },
    stdio: 'ignore',
  });
  b.shells.push(proc);
  const rc = join(d, 'rc');
  for (let i = 0; !existsSync(rc); i++) {
    if (i > 3000) throw new Error(`blast start ${name}: no answer`);
    await sleep(50);
  }
  await sleep(20);
  if (readFileSync(rc, 'utf8').trim() !== '0')
    throw new Error(`blast start ${name}: ${readFileSync(join(d, 'err'), 'utf8')}`);
  return proc;
}

/** Every daemon process of a box (its directories are on the command line). */
function daemonPids(b) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
      if (argv.some((a) => a.endsWith('daemon/main.js')) && argv.some((a) => a.startsWith(b.dir)))
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** What `blast list --json` says about the daemon per environment. */
function listed(b) {
  const r = spawnSync(process.execPath, [bin, 'list', '--json', '--no-size'], {
    env: b.env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`blast list: ${r.stderr}`);
  return JSON.parse(r.stdout).map((e) => ({ name: e.name, ...(e.plugins?.['@blast/daemon'] ?? {}) }));
}

const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks; // utime, stime
}
function procRss(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}
const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

async function until(what, probe, ms = 120_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function stopShells(b) {
  for (const p of b.shells) p.kill('SIGKILL');
  b.shells = [];
  await until('the daemons to exit', () => daemonPids(b).length === 0, 60_000);
}

/**
 * N shells, N environments active: daemon processes, their RSS together, CPU over an idle window.
 * `names` are created beforehand (creation is not what is measured).
 */
async function measureActive(b, names) {
  await Promise.all(names.map((name) => openShell(b, name)));
  await until(
    `${names.length} environments served`,
    () =>
      listed(b).filter((e) => names.includes(e.name) && e.daemon === 'running' && e.shells === 1).length ===
      names.length,
  );
  // Settle: start-up work, V8's memory reducer (one full GC a few seconds after start-up).
  await sleep(opts.settle * 1000);
  const pids = daemonPids(b);
  const cpu0 = pids.map(procCpuMs);
  const t0 = Date.now();
  await sleep(opts.idle * 1000);
  const seconds = (Date.now() - t0) / 1000;
  const cpuMs = pids.map(procCpuMs).reduce((sum, c, i) => sum + c - cpu0[i], 0);
  const rss = pids.map(procRss).reduce((a, c) => a + c, 0);
  const row = {
    envs: names.length,
    daemons: pids.length,
    rssMiB: mib(rss),
    rssPerEnvMiB: mib(rss / names.length),
    idleCpuMs: Math.round(cpuMs),
    idleCpuPercent: Math.round((cpuMs / 1000 / seconds) * 100 * 1000) / 1000,
  };
  await stopShells(b);
  return row;
}

async function createEnvs(b, names) {
  // Created (and left) one at a time: creation races are the core's business, not measured here.
  for (const name of names) {
    const shell = await openShell(b, name);
    shell.kill('SIGKILL');
  }
  b.shells = [];
  await until('the daemons to exit', () => daemonPids(b).length === 0, 60_000);
}

/** 50,000 files in an environment's site-packages, laid out as pip does (a package dir, a dist-info). */
function fiftyThousandFiles(envPath) {
  const lib = join(envPath, 'lib');
  const site = join(
    lib,
    readdirSync(lib).find((n) => n.startsWith('python')),
    'site-packages',
  );
  let files = 0;
  for (let d = 0; d < 500; d++) {
    const pkg = join(site, `bulk${d}`);
    mkdirSync(pkg);
    const record = [];
    for (let f = 0; f < 97; f++) {
      writeFileSync(join(pkg, `m${f}.py`), `X = ${f}\n`);
      record.push(`bulk${d}/m${f}.py,,`);
    }
    const info = join(site, `bulk${d}-1.0.dist-info`);
    mkdirSync(info);
    writeFileSync(join(info, 'METADATA'), `Metadata-Version: 2.1\nName: bulk${d}\nVersion: 1.0\n`);
    writeFileSync(join(info, 'INSTALLER'), 'pip\n');
    writeFileSync(join(info, 'RECORD'), record.join('\n') + '\n');
    files += 100;
  }
  return files;
}

const GOAL_MIB = 60;
const IDLE_CPU_PERCENT = 0.1;
const NAMES = Array.from({ length: 10 }, (_, i) => `env${i + 1}`);

const SCENARIOS = [
  {
    name: 'daemon-memory',
    goal: `10 environments active in 10 shells: all daemons ≤ ${GOAL_MIB} MiB RSS together, idle CPU ≤ ${IDLE_CPU_PERCENT} %`,
    async run() {
      const b = box('memory');
      await createEnvs(b, NAMES);
      const rows = [];
      for (const n of [1, 5, 10]) rows.push(await measureActive(b, NAMES.slice(0, n)));
      const ten = rows.at(-1);
      return { rows, met: ten.rssMiB <= GOAL_MIB && rows.every((r) => r.idleCpuPercent <= IDLE_CPU_PERCENT) };
    },
  },
  {
    name: 'daemon-50k',
    goal: `10 environments active, one with 50,000 files: all daemons ≤ ${GOAL_MIB} MiB RSS together, idle CPU ≤ ${IDLE_CPU_PERCENT} %`,
    async run() {
      const b = box('fifty-k');
      await createEnvs(b, NAMES);
      const files = fiftyThousandFiles(join(b.env.BLAST_HOME, 'envs', NAMES[0]));
      const row = { ...(await measureActive(b, NAMES)), files };
      return { rows: [row], met: row.rssMiB <= GOAL_MIB && row.idleCpuPercent <= IDLE_CPU_PERCENT };
    },
  },
];

const results = [];
try {
  for (const scenario of SCENARIOS) {
    if (opts.only && !opts.only.includes(scenario.name)) continue;
    process.stderr.write(`bench/scale: ${scenario.name}…\n`);
    const t0 = Date.now();
    const outcome = await scenario.run();
    results.push({
      name: scenario.name,
      goal: scenario.goal,
      ...outcome,
      seconds: Math.round((Date.now() - t0) / 1000),
    });
  }
} finally {
  // Whatever a failed scenario left: its shells and daemons, by pid.
  for (const b of boxes) {
    for (const p of b.shells) p.kill('SIGKILL');
    for (const pid of daemonPids(b)) process.kill(pid, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
}

for (const r of results) {
  console.log(`\n${r.name}: ${r.goal} — ${r.met ? 'met' : 'NOT met'}`);
  console.table(r.rows);
}
const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
const file = join(out, `scale-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, load: loadavg() },
      options: opts,
      scenarios: results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\n${file}`);
