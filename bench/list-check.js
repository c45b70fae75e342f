// `node bench/list-check.js [--n 7] [--envs 100] [--python 3.11] [--keep]`: `blast list` and
// `blast check` over many environments against the same commands over one, side by side in one
// run, round-robin, whole processes. Goals (issue 16): list (table and --json) with 100
// environments ≤ 1.5× list with one; check over 100 ≤ 5 s.
//
// The environments are made with Blast's own library (what `blast start NAME` runs to create one,
// without a shell and without a daemon), so a hundred take seconds, not minutes; each then has
// one package installed by pip and recorded, as a used environment would.
// Results: a table on stdout, JSON in bench/results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

const opts = { n: 7, envs: 100, python: '3.11', keep: false, reuse: undefined };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--n') opts.n = Number(process.argv[++i]);
  else if (a === '--envs') opts.envs = Number(process.argv[++i]);
  else if (a === '--python') opts.python = process.argv[++i];
  else if (a === '--keep') opts.keep = true;
  // A root kept by an earlier `--keep` run with the same --envs: measure again without building.
  else if (a === '--reuse') opts.reuse = process.argv[++i];
  else {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

const root = opts.reuse ?? mkdtempSync(join(tmpdir(), 'blast-bench-scale-'));
const base = { ...process.env, NO_COLOR: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
for (const k of Object.keys(base)) if (k.startsWith('BLAST_') || k === 'VIRTUAL_ENV') delete base[k];
const homes = { one: join(root, 'one'), many: join(root, 'many') };
const envOf = (home) => ({ ...base, BLAST_HOME: home, BLAST_CACHE_DIR: join(root, 'cache') });

function run(file, args, env, okStatus = [0]) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okStatus.includes(r.status)) {
    process.stderr.write(`bench: ${file} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n`);
    process.exit(1);
  }
  return { ms, stdout: r.stdout };
}

/** A tiny wheel, built once: what every environment installs, so each has a revision to show. */
function tinyWheel(dir) {
  mkdirSync(dir, { recursive: true });
  const py = `
import base64, hashlib, zipfile, sys
name, version = 'benchpkg', '1.0'
files = {'benchpkg/__init__.py': b'VALUE = 1\\n',
         f'{name}-{version}.dist-info/METADATA': f'Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n'.encode(),
         f'{name}-{version}.dist-info/WHEEL': b'Wheel-Version: 1.0\\nGenerator: bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}
record = []
with zipfile.ZipFile(sys.argv[1] + f'/{name}-{version}-py3-none-any.whl', 'w') as z:
    for path, data in files.items():
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{path},sha256={digest},{len(data)}')
    record.append(f'{name}-{version}.dist-info/RECORD,,')
    z.writestr(f'{name}-{version}.dist-info/RECORD', '\\n'.join(record) + '\\n')
`;
  run('python3', ['-c', py, dir], base);
  return dir;
}

async function build(home, count, wheels) {
  const env = envOf(home);
  const { planCreation, createEnv, resolveTarget } = await import('../dist/lib/envs/environments.js');
  const ctx = { env, cwd: root };
  for (let i = 1; i <= count; i++) {
    const planned = await planCreation(resolveTarget(`env${i}`, undefined, ctx), opts.python, ctx);
    await createEnv(planned, {}, ctx);
    // Through Blast's pip (a transaction): installed and recorded as a revision.
    const path = join(home, 'envs', `env${i}`);
    const pip = ['pip', '--', 'install', '-q', '--no-index', '--find-links', wheels, 'benchpkg'];
    run(process.execPath, [bin, ...pip], { ...env, VIRTUAL_ENV: path, BLAST_SHELL_PID: String(process.pid) });
  }
}

if (!opts.reuse) {
  const wheels = tinyWheel(join(root, 'wheels'));
  process.stderr.write(`bench: building 1 and ${opts.envs} environments in ${root}\n`);
  await build(homes.one, 1, wheels);
  await build(homes.many, opts.envs, wheels);
}

const series = {
  'list (1 env)': () => run(process.execPath, [bin, 'list'], envOf(homes.one)),
  [`list (${opts.envs} envs)`]: () => run(process.execPath, [bin, 'list'], envOf(homes.many)),
  'list --json (1 env)': () => run(process.execPath, [bin, 'list', '--json'], envOf(homes.one)),
  [`list --json (${opts.envs} envs)`]: () =>
    run(process.execPath, [bin, 'list', '--json'], envOf(homes.many)),
  'check (1 env)': () => run(process.execPath, [bin, 'check'], envOf(homes.one), [0, 5]),
  [`check (${opts.envs} envs)`]: () => run(process.execPath, [bin, 'check'], envOf(homes.many), [0, 5]),
};
const times = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
for (let i = 0; i < opts.n; i++) for (const [k, f] of Object.entries(series)) times[k].push(f().ms);

const med = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]));
const ratio = (a, b) => med[a] / med[b];
const result = {
  bench: 'list-check',
  date: new Date().toISOString(),
  runs: opts.n,
  envs: opts.envs,
  medianMs: med,
  ratios: {
    list: ratio(`list (${opts.envs} envs)`, 'list (1 env)'),
    listJson: ratio(`list --json (${opts.envs} envs)`, 'list --json (1 env)'),
    check: ratio(`check (${opts.envs} envs)`, 'check (1 env)'),
  },
  goals: { listRatio: 1.5, checkManyMs: 5000 },
};
for (const [k, v] of Object.entries(med))
  process.stdout.write(`${k.padEnd(24)} ${v.toFixed(0).padStart(7)} ms\n`);
process.stdout.write(
  `list ${result.ratios.list.toFixed(2)}× (goal ≤ 1.5×), list --json ${result.ratios.listJson.toFixed(2)}×, ` +
    `check over ${opts.envs}: ${(med[`check (${opts.envs} envs)`] / 1000).toFixed(2)} s (goal ≤ 5 s)\n`,
);
mkdirSync(join(repo, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(repo, 'bench', 'results', `list-check-${Date.now()}.json`),
  JSON.stringify(result, null, 2) + '\n',
);
if (!opts.keep && !opts.reuse) rmSync(root, { recursive: true, force: true });
