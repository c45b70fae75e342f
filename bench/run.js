// `npm run bench`: Blast's environment creation side by side with `python -m venv` and virtualenv,
// N runs each (default 10), medians and ratios, in one run on one interpreter.
//
//   node bench/run.js [--n 10] [--python SPEC] [--settle MS] [--skip-venv] [--skip-virtualenv] [--keep]
//
// --settle (default 300 ms) pauses before every timed run. Each `blast start NEW` leaves its
// environment's daemon booting in the background (a Node process, ~0.1 s of CPU); on a 2-core
// machine that boot would otherwise land on the next tool's run, whichever it is. A user's next
// command comes later than 0.3 s. `--settle 0` measures back to back.
//
// Every tool makes a venv with pip usable, with its own defaults (python -m venv and virtualenv
// also install setuptools for Python < 3.12; Blast installs pip only). Blast is measured as a
// user meets it: the whole CLI process (`blast start NAME` through the shell-function protocol),
// and also its library alone. The series run round-robin, so a busy machine slows all alike.
// Results: a table on stdout, JSON in bench/results/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

function parseArgs(argv) {
  const opts = { n: 10, python: undefined, settle: 300, skipVenv: false, skipVirtualenv: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--n') opts.n = Number(argv[++i]);
    else if (a === '--python') opts.python = argv[++i];
    else if (a === '--settle') opts.settle = Number(argv[++i]);
    else if (a === '--skip-venv') opts.skipVenv = true;
    else if (a === '--skip-virtualenv') opts.skipVirtualenv = true;
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

/** The environment a user's shell would pass, minus any active venv or Blast state. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'VIRTUAL_ENV' || k === 'VIRTUAL_ENV_PROMPT' || k.startsWith('BLAST_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    ms,
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '') + (r.error ? String(r.error) : ''),
  };
}

function must(result, what) {
  if (result.status !== 0) {
    throw new Error(
      `${what} failed (exit ${result.status}):\n${(result.stderr || result.stdout).trim().slice(-2000)}`,
    );
  }
  return result;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { n: samples.length, median, min: sorted[0], max: sorted.at(-1), samples };
}

function log(line) {
  process.stderr.write(`${line}\n`);
}

/** `pip config list` lines like global.extra-index-url='a b' → { 'global.extra-index-url': 'a b' }. */
function pipConfig(pip, env) {
  const out = {};
  const r = run(pip, ['config', 'list'], { env });
  for (const line of r.stdout.split('\n')) {
    const m = /^([^=]+)='(.*)'$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** virtualenv in a venv of its own, from the machine's configured (local) index. */
function installVirtualenv(python, dir, env) {
  must(run(python, ['-m', 'venv', dir], { env }), 'python -m venv (for virtualenv)');
  const pip = join(dir, 'bin', 'pip');
  const cfg = pipConfig(pip, env);
  const pick = (key) => cfg[`:env:.${key}`] ?? cfg[`global.${key}`] ?? cfg[`install.${key}`];
  const index = pick('index-url');
  const extra = (pick('extra-index-url') ?? '').split(/\s+/).filter(Boolean);
  const args = ['install', '-q', '--disable-pip-version-check'];
  // Only extra indexes configured (typical offline mirror): make the first the index, so pip does
  // not spend minutes retrying the unreachable default one.
  if (!index && extra.length > 0) args.push('--index-url', extra[0]);
  args.push('virtualenv');
  must(run(pip, args, { env, timeout: 600_000 }), 'pip install virtualenv');
  return join(dir, 'bin', 'virtualenv');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(repo, 'dist', 'lib', 'python', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm run bench` does).');
  }
  const { findPython } = await import('../dist/lib/python/index.js');
  const tmp = mkdtempSync(join(tmpdir(), 'blast-bench-'));
  const notes = [];
  const results = [];

  try {
    const py = await findPython(opts.python, {
      env: cleanEnv({ BLAST_HOME: join(tmp, 'probe-home') }),
      cwd: process.cwd(),
    });
    log(`bench: Python ${py.version} (${py.executable}), ${opts.n} runs each, in ${tmp}`);
    const env = cleanEnv();
    const N = opts.n;

    // Blast, the whole CLI, as the shell function runs it (BLAST_SHELL + a script file to write).
    const home = join(tmp, 'blast-home');
    const script = join(tmp, 'shell-script');
    const project = join(tmp, 'project');
    mkdirSync(project);
    const blastEnv = cleanEnv({
      BLAST_HOME: home,
      BLAST_SHELL: 'bash',
      BLAST_SHELL_SCRIPT: script,
      BLAST_SHELL_PID: String(process.pid),
    });
    const blast = (args) => {
      writeFileSync(script, '', { mode: 0o600 });
      return run(process.execPath, [bin, ...args], { env: blastEnv, cwd: project });
    };
    const libHome = join(tmp, 'lib-home');
    const lib = (name) =>
      run(
        process.execPath,
        [join(repo, 'bench', 'create.js'), join(tmp, 'lib', name), py.executable, libHome],
        {
          env,
        },
      );

    // Warm-ups (not timed, except the very first start, reported on its own): facts cache, pip
    // seed and spares, virtualenv's app-data, the OS's file cache.
    log('warming up');
    must(blast(['--version']), 'blast --version');
    const cold = blast(['start', 'cold', '--python', py.executable]);
    const cliWorks = cold.status === 0;
    if (cliWorks) {
      results.push({
        id: 'blast-start-first',
        label: 'blast start NEW, first ever (probe + pip seed)',
        ...stats([cold.ms]),
      });
    } else {
      const why = cold.stderr.trim().split('\n').slice(-2).join(' ');
      notes.push(`blast start does not work here, so Blast is measured through its library only: ${why}`);
      log(`  blast start failed: ${cold.stderr.trim()}`);
    }
    must(lib('warm'), 'bench/create.js');

    let virtualenv;
    const venvEnv = { ...env, VIRTUALENV_OVERRIDE_APP_DATA: join(tmp, 'virtualenv-app-data') };
    if (!opts.skipVirtualenv) {
      try {
        virtualenv = installVirtualenv(py.executable, join(tmp, 'tools'), env);
        must(
          run(virtualenv, ['-q', '-p', py.executable, join(tmp, 'virtualenv', 'warm')], { env: venvEnv }),
          'virtualenv',
        );
      } catch (error) {
        virtualenv = undefined;
        notes.push(`virtualenv skipped: ${error.message.split('\n')[0]}`);
        log(`  virtualenv skipped: ${error.message}`);
      }
    }
    const virtualenvVersion = virtualenv
      ? run(virtualenv, ['--version'], { env }).stdout.trim().split(' ')[1]
      : '';

    // The series, run round-robin (one run of each per round) so load changes hit all alike.
    const inProcess = [];
    const series = [
      { id: 'blast-version', label: 'blast --version', run: () => blast(['--version']) },
      cliWorks && {
        id: 'blast-start-new',
        label: 'blast start NEW (CLI, pip usable)',
        run: (i) => blast(['start', `env${i}`, '--python', py.executable]),
        check: () => join(home, 'envs', 'env0'),
      },
      cliWorks && {
        id: 'blast-start-existing',
        label: 'blast start EXISTING (activation)',
        run: () => blast(['start', 'cold']),
      },
      {
        id: 'blast-library',
        label: 'blast createVenv (node process)',
        run: (i) => {
          const r = lib(`env${i}`);
          if (r.status === 0) inProcess.push(JSON.parse(r.stdout.trim()).createMs);
          return r;
        },
        check: () => join(tmp, 'lib', 'env0'),
      },
      virtualenv && {
        id: 'virtualenv',
        label: `virtualenv ${virtualenvVersion} (app-data warm)`,
        run: (i) =>
          run(virtualenv, ['-q', '-p', py.executable, join(tmp, 'virtualenv', `env${i}`)], { env: venvEnv }),
        check: () => join(tmp, 'virtualenv', 'env0'),
      },
      !opts.skipVenv && {
        id: 'python-venv',
        label: 'python -m venv (ensurepip)',
        run: (i) => run(py.executable, ['-m', 'venv', join(tmp, 'venv', `env${i}`)], { env }),
        check: () => join(tmp, 'venv', 'env0'),
      },
    ].filter(Boolean);

    const samples = new Map(series.map((s) => [s.id, []]));
    const failed = new Set();
    for (let i = 0; i < N; i++) {
      log(`round ${i + 1}/${N}`);
      for (const s of series) {
        if (failed.has(s.id)) continue;
        if (opts.settle) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, opts.settle);
        const r = s.run(i);
        if (r.status !== 0) {
          failed.add(s.id);
          notes.push(`${s.label} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
          continue;
        }
        samples.get(s.id).push(r.ms);
      }
    }
    for (const s of series) {
      if (failed.has(s.id)) continue;
      // Each tool's venv must have a working pip, or its time means nothing.
      if (s.check) must(run(join(s.check(), 'bin', 'pip'), ['--version'], { env }), `pip of ${s.label}`);
      results.push({ id: s.id, label: s.label, ...stats(samples.get(s.id)) });
      if (s.id === 'blast-library' && inProcess.length > 0) {
        results.push({
          id: 'blast-create-only',
          label: 'blast createVenv (in-process time only)',
          ...stats(inProcess),
        });
      }
    }

    const base = results.find((r) => r.id === (cliWorks ? 'blast-start-new' : 'blast-library'));
    for (const r of results) r.ratio = base ? r.median / base.median : undefined;
    report({ py, results, notes, base, N, settle: opts.settle });
  } finally {
    if (opts.keep) log(`bench: kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

function report({ py, results, notes, base, N, settle }) {
  const rows = results.map((r) => [
    r.label,
    r.median.toFixed(1),
    r.min.toFixed(1),
    r.max.toFixed(1),
    String(r.n),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
  ]);
  const head = ['what', 'median ms', 'min', 'max', 'n', `vs ${base ? base.label.split(' (')[0] : '-'}`];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [
    `Blast creation benchmark — Python ${py.version} (${py.executable}), Node ${process.version}, ${cpus().length} CPUs, ${N} runs each, ${settle} ms between runs`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  const goal = (id, ms, what) => {
    const r = results.find((x) => x.id === id);
    if (r)
      out.push(
        `goal ${what} ≤ ${ms} ms: ${r.median <= ms ? 'met' : 'NOT met'} (median ${r.median.toFixed(1)} ms)`,
      );
  };
  out.push('');
  goal('blast-start-new', 200, 'blast start NEW');
  goal('blast-start-existing', 150, 'blast start EXISTING');
  goal('blast-version', 120, 'blast --version');
  for (const n of notes) out.push(`note: ${n}`);
  process.stdout.write(out.join('\n') + '\n');

  const dir = join(repo, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const data = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    python: { version: py.version, executable: py.executable },
    runs: N,
    settleMs: settle,
    baseline: base?.id,
    results,
    notes,
  };
  const file = join(dir, `create-${data.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(data, null, 2) + '\n');
  process.stdout.write(`results: ${file}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.message}\n`);
  process.exit(1);
});
