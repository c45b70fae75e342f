// `node bench/save-large.js [--n 7] [--files 50000] [--python 3.11] [--keep]`: `blast save` of an
// environment with a 50,000-file distribution whose files are already in the store (a save after
// a save, what a transaction's snapshot is), against `node -e 0` and a plain `find` over the same
// tree, round-robin, whole processes. Goal (issue 16): the save ≤ 1 s.
// Results: a table on stdout, JSON in bench/results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');
const opts = { n: 7, files: 50_000, python: '3.11', keep: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--n') opts.n = Number(process.argv[++i]);
  else if (a === '--files') opts.files = Number(process.argv[++i]);
  else if (a === '--python') opts.python = process.argv[++i];
  else if (a === '--keep') opts.keep = true;
  else {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

const root = mkdtempSync(join(tmpdir(), 'blast-bench-save-'));
const env = {
  ...process.env,
  NO_COLOR: '1',
  BLAST_HOME: join(root, 'home'),
  BLAST_CACHE_DIR: join(root, 'cache'),
};
for (const k of Object.keys(env))
  if ((k.startsWith('BLAST_') && !(k in { BLAST_HOME: 1, BLAST_CACHE_DIR: 1 })) || k === 'VIRTUAL_ENV')
    delete env[k];

function run(file, args, extra = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { env: { ...env, ...extra }, encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    process.stderr.write(`bench: ${file} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n`);
    process.exit(1);
  }
  return ms;
}

const { planCreation, createEnv, resolveTarget } = await import('../dist/lib/envs/environments.js');
const ctx = { env, cwd: root };
const planned = await planCreation(resolveTarget('large', undefined, ctx), opts.python, ctx);
const { info } = await createEnv(planned, {}, ctx);
// One distribution of opts.files small files, installed as pip would leave it (RECORD, INSTALLER).
const py = `
import os, sys
site, n = sys.argv[1], int(sys.argv[2])
name = 'large'
rec = []
for i in range(n):
    d = os.path.join(site, name, f'p{i // 1000}')
    os.makedirs(d, exist_ok=True)
    rel = f'{name}/p{i // 1000}/m{i}.py'
    with open(os.path.join(site, rel), 'w') as f: f.write(f'X = {i}\\n')
    rec.append(f'{rel},,')
di = os.path.join(site, f'{name}-1.0.dist-info')
os.makedirs(di, exist_ok=True)
open(os.path.join(di, 'METADATA'), 'w').write(f'Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n')
open(os.path.join(di, 'INSTALLER'), 'w').write('pip\\n')
rec += [f'{name}-1.0.dist-info/METADATA,,', f'{name}-1.0.dist-info/INSTALLER,,', f'{name}-1.0.dist-info/RECORD,,']
open(os.path.join(di, 'RECORD'), 'w').write('\\n'.join(rec) + '\\n')
`;
const site = spawnSync(
  join(info.path, 'bin', 'python'),
  ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
  { encoding: 'utf8' },
).stdout.trim();
run('python3', ['-c', py, site, String(opts.files)]);
const save = (name) => run(process.execPath, [bin, 'save', name, '--path', info.path, '--force']);
process.stderr.write(`bench: first save (stores ${opts.files} files)…\n`);
save('first');

const series = {
  'blast save (stored)': () => save('again'),
  'find (same tree)': () => run('find', [site, '-type', 'f', '-newer', '/']),
  'node -e 0': () => run(process.execPath, ['-e', '0']),
};
const times = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
for (let i = 0; i < opts.n; i++) for (const [k, f] of Object.entries(series)) times[k].push(f());
const med = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]));
for (const [k, v] of Object.entries(med))
  process.stdout.write(`${k.padEnd(22)} ${v.toFixed(0).padStart(7)} ms\n`);
const ratio = med['blast save (stored)'] / med['node -e 0'];
process.stdout.write(
  `save of ${opts.files} stored files: ${(med['blast save (stored)'] / 1000).toFixed(2)} s (goal ≤ 1 s), ${ratio.toFixed(1)}× node -e 0, ${(med['blast save (stored)'] / med['find (same tree)']).toFixed(1)}× find\n`,
);
mkdirSync(join(repo, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(repo, 'bench', 'results', `save-large-${Date.now()}.json`),
  JSON.stringify(
    {
      bench: 'save-large',
      date: new Date().toISOString(),
      runs: opts.n,
      files: opts.files,
      medianMs: med,
      goalMs: 1000,
    },
    null,
    2,
  ) + '\n',
);
if (!opts.keep) rmSync(root, { recursive: true, force: true });
