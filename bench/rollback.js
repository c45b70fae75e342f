// `node bench/rollback.js [--n 5] [--python 3.11] [--keep]`: rolling an environment back with
// `blast load` against reinstalling the same pinned set with `pip install -r`, side by side in one
// run, whole processes, from the machine's own pip configuration (a warm local index, offline).
//
// For each set: an environment made by `blast start`, the set installed by pip, pinned with
// `pip freeze`, saved with `blast save`. Then, N times round-robin: everything but pip uninstalled
// (untimed), `pip install -r pinned.txt` timed; everything uninstalled again, `blast load` timed.
// `blast save` is timed too (the snapshot a transaction would take, all objects already stored).
// Results: a table on stdout, JSON in bench/results/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, localIndexEnv, median, timedRunner } from './lib.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

const opts = { n: 5, python: '3.11', keep: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--n') opts.n = Number(process.argv[++i]);
  else if (a === '--python') opts.python = process.argv[++i];
  else if (a === '--keep') opts.keep = true;
  else {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

const SETS = [
  { name: 'web', packages: ['requests', 'flask', 'rich'] },
  { name: 'science', packages: ['numpy', 'pandas', 'scipy'] },
];

const root = mkdtempSync(join(tmpdir(), 'blast-bench-rollback-'));
const env = localIndexEnv(root);

const run = timedRunner(env);

const results = [];
try {
  for (const set of SETS) {
    const name = `bench-${set.name}`;
    const script = join(root, `${name}.sh`);
    writeFileSync(script, '');
    run(process.execPath, [bin, 'start', name, '--python', opts.python], {
      env: { ...env, BLAST_SHELL: 'bash', BLAST_SHELL_SCRIPT: script, BLAST_SHELL_PID: String(process.pid) },
    });
    const envPath = join(env.BLAST_HOME, 'envs', name);
    const pip = join(envPath, 'bin', 'pip');
    run(pip, ['install', '-q', ...set.packages]);
    const pinned = run(pip, ['freeze', '--all'])
      .stdout.split('\n')
      .filter((l) => l && !/^(pip|setuptools|wheel)==/.test(l));
    const req = join(root, `${name}.txt`);
    writeFileSync(req, pinned.join('\n') + '\n');
    const firstSave = run(process.execPath, [bin, 'save', '--env', name, 'pinned', '--json']);
    const saved = JSON.parse(firstSave.stdout);
    const times = {
      pip: [],
      load: [],
      save: [],
      loadInProcess: [],
      saveInProcess: [],
      saveUnchangedInProcess: [],
      txSnapshot: [],
      txPip: [],
      txRecord: [],
      txNoopSnapshot: [],
      txNoopPip: [],
    };
    // `blast pip` (what the shim runs) in the environment, with its own timings on stderr.
    const transaction = (args) => {
      const r = run(process.execPath, [bin, 'pip', '--', ...args], {
        env: { ...env, VIRTUAL_ENV: envPath, BLAST_TIMING: '1' },
      });
      const t = /timing .*\bsnapshot=([\d.]+)ms pip=([\d.]+)ms .*record=([\d.]+|-)ms/.exec(r.stderr ?? '');
      if (!t) {
        process.stderr.write(`bench: no timing line from blast pip:\n${r.stderr}\n`);
        process.exit(1);
      }
      return { snapshot: Number(t[1]), pip: Number(t[2]), record: Number(t[3]) };
    };
    const uninstall = () => run(pip, ['uninstall', '-y', '-q', '-r', req]);
    // Warm pip's cache and the page cache once, untimed.
    uninstall();
    run(pip, ['install', '-q', '-r', req]);
    for (let i = 0; i < opts.n; i++) {
      uninstall();
      times.pip.push(run(pip, ['install', '-q', '-r', req]).ms);
      const save = run(process.execPath, [bin, 'save', '--env', name, 'again', '--force', '--json']);
      times.save.push(save.ms);
      times.saveInProcess.push(JSON.parse(save.stdout).ms);
      // Nothing changed since: what a transaction's snapshot before pip costs in a settled env.
      const unchanged = run(process.execPath, [bin, 'save', '--env', name, 'again', '--force', '--json']);
      times.saveUnchangedInProcess.push(JSON.parse(unchanged.stdout).ms);
      uninstall();
      const load = run(process.execPath, [bin, 'load', '--env', name, 'pinned', '--json']);
      times.load.push(load.ms);
      times.loadInProcess.push(JSON.parse(load.stdout).ms);
      // A pip transaction reinstalling the set: the snapshot before (nearly empty env), pip, then
      // the after snapshot and its revision.
      uninstall();
      const tx = transaction(['install', '-q', '-r', req]);
      times.txSnapshot.push(tx.snapshot);
      times.txPip.push(tx.pip);
      times.txRecord.push(tx.record);
      // The hard case for the snapshot: the whole set installed, and pip finds nothing to do.
      const noop = transaction(['install', '-q', '-r', req]);
      times.txNoopSnapshot.push(noop.snapshot);
      times.txNoopPip.push(noop.pip);
    }
    const row = {
      set: set.name,
      packages: set.packages,
      distributions: pinned.length,
      files: saved.files,
      storeBytes: saved.newBytes,
      firstSaveMs: firstSave.ms,
      runs: opts.n,
      times,
      median: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])),
    };
    row.speedup = row.median.pip / row.median.load;
    row.saveShareOfPip = row.median.save / row.median.pip;
    row.txSnapshotShareOfPip = row.median.txSnapshot / row.median.txPip;
    row.txNoopSnapshotShareOfPip = row.median.txNoopSnapshot / row.median.txNoopPip;
    results.push(row);
  }
} finally {
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
  else process.stderr.write(`bench: kept ${root}\n`);
}

console.log(
  [
    'SET',
    'DISTS',
    'FILES',
    'PIP INSTALL -R',
    'BLAST LOAD',
    'SPEEDUP',
    'LOAD IN-PROCESS',
    'BLAST SAVE',
    'SAVE/PIP',
    'SAVE IN-PROCESS',
    'SAVE UNCHANGED IN-PROCESS',
    'TX SNAPSHOT/PIP',
    'TX AFTER+REVISION',
    'TX NO-OP SNAPSHOT/PIP',
  ].join('\t'),
);
for (const r of results) {
  console.log(
    [
      `${r.set} (${r.packages.join('+')})`,
      r.distributions,
      r.files,
      fmt(r.median.pip),
      fmt(r.median.load),
      `${r.speedup.toFixed(1)}x`,
      fmt(r.median.loadInProcess),
      fmt(r.median.save),
      `${(r.saveShareOfPip * 100).toFixed(0)} %`,
      `${fmt(r.median.saveInProcess)} (${((r.median.saveInProcess / r.median.pip) * 100).toFixed(0)} %)`,
      fmt(r.median.saveUnchangedInProcess),
      `${fmt(r.median.txSnapshot)}/${fmt(r.median.txPip)} (${(r.txSnapshotShareOfPip * 100).toFixed(1)} %)`,
      fmt(r.median.txRecord),
      `${fmt(r.median.txNoopSnapshot)}/${fmt(r.median.txNoopPip)} (${(r.txNoopSnapshotShareOfPip * 100).toFixed(1)} %)`,
    ].join('\t'),
  );
}
console.log(
  `medians of ${opts.n} runs each, whole processes (IN-PROCESS: the command's own time, startup aside); ` +
    'pip install -r of the pinned set (all dependencies pinned); SAVE right after pip reinstalled every file; ' +
    'TX: blast pip -- install -r (the shim), its snapshot before pip vs pip inside it, into the emptied env ' +
    'and (NO-OP) into the full env where pip has nothing to do',
);
const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(out, `rollback-${stamp}.json`),
  JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n',
);
