// `node bench/install-sandbox.js [--n 9] [--python 3.11] [--keep] [SCENARIO…]`: what installs cost, as a
// list of self-contained scenarios (each makes its own environment and wheels, and cleans up),
// every one run round-robin against its peer in the same run; medians and ratios on stdout, JSON
// in bench/results/install-<scenario>-<stamp>.json. No index: tiny wheels the bench builds, pip
// pointed at them with --no-index --find-links. With no SCENARIO, all of them run.
//
// Scenarios:
//   sandbox  the install sandbox (issue 18): the same tiny-wheel `blast pip -- install` with
//            BLAST_INSTALL_SANDBOX=on and =off, alternating; the whole command (one sandboxed
//            pip: resolved once, reviewed, installed) and its pip phase alone (BLAST_TIMING).
//            Then the same pip alone, bare and under the plugin's bwrap command line.
//            Goal: ≤ 50 ms added to the install.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median, timedRunner } from './lib.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

const opts = { n: 9, python: '3.11', keep: false, scenarios: [] };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--n') opts.n = Number(process.argv[++i]);
  else if (a === '--python') opts.python = process.argv[++i];
  else if (a === '--keep') opts.keep = true;
  else if (!a.startsWith('-')) opts.scenarios.push(a);
  else {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

/** A private Blast (home, cache) and a runner of whole processes in it. */
function world(name) {
  const root = mkdtempSync(join(tmpdir(), `blast-bench-install-${name}-`));
  const env = {
    ...process.env,
    HOME: join(root, 'home'),
    BLAST_HOME: join(root, 'blast'),
    NO_COLOR: '1',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
  };
  for (const k of Object.keys(env))
    if (
      k.startsWith('BLAST_SHELL') ||
      k === 'VIRTUAL_ENV' ||
      (k.startsWith('PIP_') &&
        !(k in { PIP_CONFIG_FILE: 1, PIP_DISABLE_PIP_VERSION_CHECK: 1, PIP_NO_INPUT: 1 }))
    )
      delete env[k];
  mkdirSync(env.HOME, { recursive: true });
  const timed = timedRunner(env);
  const run = (file, args, extra = {}) => timed(file, args, { env: { ...env, ...extra } });
  const start = (envName) => {
    const script = join(root, `${envName}.sh`);
    writeFileSync(script, '');
    run(process.execPath, [bin, 'start', envName, '--python', opts.python], {
      BLAST_SHELL: 'bash',
      BLAST_SHELL_SCRIPT: script,
      BLAST_SHELL_PID: String(process.pid),
    });
    return join(env.BLAST_HOME, 'envs', envName);
  };
  const cleanup = () => {
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
    else process.stderr.write(`bench: kept ${root}\n`);
  };
  return { root, env, run, start, cleanup };
}

/** `<name>-1.0-py3-none-any.whl` in `dir`, written by `python`'s zipfile. */
function tinyWheel(run, python, dir, name) {
  const code = [
    'import sys, zipfile',
    'out, name = sys.argv[1:3]',
    "d = name + '-1.0.dist-info'",
    "files = {name + '/__init__.py': 'VALUE = 1\\n', d + '/METADATA': 'Metadata-Version: 2.1\\nName: %s\\nVersion: 1.0\\n' % name,",
    "  d + '/WHEEL': 'Wheel-Version: 1.0\\nGenerator: bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}",
    "files[d + '/RECORD'] = ''.join('%s,,\\n' % p for p in files) + d + '/RECORD,,\\n'",
    "with zipfile.ZipFile(out, 'w') as z:",
    '    for p, t in files.items(): z.writestr(p, t)',
  ].join('\n');
  mkdirSync(dir, { recursive: true });
  run(python, ['-c', code, join(dir, `${name}-1.0-py3-none-any.whl`), name]);
}

const SCENARIOS = {
  async sandbox() {
    const w = world('sandbox');
    try {
      const envPath = w.start('bench-sandbox');
      const python = join(envPath, 'bin', 'python');
      const wheels = join(w.root, 'wheels');
      tinyWheel(w.run, python, wheels, 'benchtiny');
      const install = (mode) => {
        const r = w.run(
          process.execPath,
          [
            bin,
            'pip',
            '--',
            'install',
            '-q',
            '--no-index',
            '--find-links',
            wheels,
            '--force-reinstall',
            'benchtiny',
          ],
          { VIRTUAL_ENV: envPath, BLAST_TIMING: '1', BLAST_INSTALL_SANDBOX: mode },
        );
        const pip = /timing .*\bsnapshot=[\d.]+ms pip=([\d.]+)ms/.exec(r.stderr);
        if (!pip) {
          process.stderr.write(`bench: no timing line from blast pip:\n${r.stderr}\n`);
          process.exit(1);
        }
        return { ms: r.ms, pip: Number(pip[1]) };
      };
      // Warm pip, the page cache and the sandbox probe's cached answer, untimed.
      install('on');
      install('off');
      const times = { onWhole: [], offWhole: [], onPip: [], offPip: [] };
      for (let i = 0; i < opts.n; i++) {
        // Alternate which goes first: the machine's load drifts.
        for (const mode of i % 2 ? ['off', 'on'] : ['on', 'off']) {
          const t = install(mode);
          times[`${mode}Whole`].push(t.ms);
          times[`${mode}Pip`].push(t.pip);
        }
      }
      // The same pip alone, bare and under the very bwrap command line the isolation plugin
      // builds (no Blast around it): what the sandbox adds to one pip process, with less noise.
      const { installBwrapArgs } = await import(
        join(repo, 'plugins', 'isolation', 'dist', 'install-sandbox.js')
      );
      const cache = join(w.env.HOME, '.cache', 'pip');
      mkdirSync(cache, { recursive: true });
      const { args: bwrapArgs } = installBwrapArgs({
        cwd: w.env.HOME,
        home: w.env.HOME,
        blastHome: w.env.BLAST_HOME,
        runtimeDirs: process.env.XDG_RUNTIME_DIR ? [process.env.XDG_RUNTIME_DIR] : [],
        readable: [wheels],
        writable: [envPath, cache],
        runUser: existsSync('/run/user'),
      });
      const pipArgs = [
        '-m',
        'pip',
        'install',
        '-q',
        '--no-index',
        '--find-links',
        wheels,
        '--force-reinstall',
        'benchtiny',
      ];
      times.barePip = [];
      times.bwrapPip = [];
      for (let i = 0; i < opts.n; i++) {
        for (const mode of i % 2 ? ['bare', 'bwrap'] : ['bwrap', 'bare']) {
          const r =
            mode === 'bare'
              ? w.run(python, pipArgs)
              : w.run('bwrap', [...bwrapArgs, '--', python, ...pipArgs]);
          times[`${mode}Pip`].push(r.ms);
        }
      }
      // The sandbox's fixed cost alone: /bin/true bare and under the same bwrap command line.
      times.bareTrue = [];
      times.bwrapTrue = [];
      for (let i = 0; i < 3 * opts.n; i++) {
        for (const mode of i % 2 ? ['bare', 'bwrap'] : ['bwrap', 'bare']) {
          const r = mode === 'bare' ? w.run('true', []) : w.run('bwrap', [...bwrapArgs, '--', 'true']);
          times[`${mode}True`].push(r.ms);
        }
      }
      const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
      const row = {
        scenario: 'sandbox',
        what: 'blast pip -- install --force-reinstall of one tiny wheel, BLAST_INSTALL_SANDBOX=on vs off',
        runs: opts.n,
        times,
        median: m,
        addedWholeMs: m.onWhole - m.offWhole,
        ratioWhole: m.onWhole / m.offWhole,
        addedPipMs: m.onPip - m.offPip,
        ratioPip: m.onPip / m.offPip,
        addedOnePipMs: 0,
        ratioOnePip: 0,
        goalMs: 50,
      };
      row.addedOnePipMs = m.bwrapPip - m.barePip;
      row.addedSetupMs = m.bwrapTrue - m.bareTrue;
      row.ratioOnePip = m.bwrapPip / m.barePip;
      console.log(
        ['SCENARIO', 'SANDBOX ON', 'OFF', 'RATIO', 'ADDED', 'PIP PHASE ON', 'OFF', 'RATIO', 'ADDED'].join(
          '\t',
        ),
      );
      console.log(
        [
          'sandbox (whole command | pip phase)',
          fmt(m.onWhole),
          fmt(m.offWhole),
          `${row.ratioWhole.toFixed(2)}x`,
          `${row.addedWholeMs.toFixed(0)} ms`,
          fmt(m.onPip),
          fmt(m.offPip),
          `${row.ratioPip.toFixed(2)}x`,
          `${row.addedPipMs.toFixed(0)} ms`,
        ].join('\t'),
      );
      console.log(
        [
          'one pip, bare vs in bwrap',
          fmt(m.bwrapPip),
          fmt(m.barePip),
          `${row.ratioOnePip.toFixed(2)}x`,
          `${row.addedOnePipMs.toFixed(0)} ms`,
        ].join('\t'),
      );
      console.log(
        [
          'setup: true, bare vs in bwrap',
          fmt(m.bwrapTrue),
          fmt(m.bareTrue),
          `${(m.bwrapTrue / m.bareTrue).toFixed(2)}x`,
          `${row.addedSetupMs.toFixed(0)} ms`,
        ].join('\t'),
      );
      console.log(
        `medians of ${opts.n} round-robin runs each (setup: ${3 * opts.n}); the whole command runs one sandboxed pip (resolved once, reviewed, installed; the check is in-process); goal: ≤ 50 ms added`,
      );
      return row;
    } finally {
      w.cleanup();
    }
  },
};

const chosen = opts.scenarios.length ? opts.scenarios : Object.keys(SCENARIOS);
const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
for (const name of chosen) {
  const scenario = SCENARIOS[name];
  if (!scenario) {
    process.stderr.write(`bench: no scenario ${name} (there are: ${Object.keys(SCENARIOS).join(', ')})\n`);
    process.exit(2);
  }
  const row = await scenario();
  writeFileSync(
    join(out, `install-${name}-${stamp}.json`),
    JSON.stringify({ date: new Date().toISOString(), ...row }, null, 2) + '\n',
  );
}
