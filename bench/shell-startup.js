// `node bench/shell-startup.js [--n 20] [--prompts 100]`: what Blast adds to a new interactive shell
// and to each prompt, in bash, zsh and fish, side by side in one run.
//
// Start-up: `SHELL -i -c exit` N times round-robin with three homes whose rc file is empty, holds
// the line `blast init --install` writes (it sources the generated file), or holds the old
// `eval "$(blast init bash)"` line. Added = median(with the line) - median(empty rc). And the line
// alone, free of the start-up's own noise: run 100 times in a loop in one shell, against the same
// loop doing nothing.
//
// Prompt hook (`--auto`): an interactive shell reading P empty command lines from a file runs its
// prompt hooks before every prompt (fish: P `emit fish_prompt`, see below); the same shell without the hook is the baseline. Per prompt =
// (median(with hook) - median(without)) / P, in a directory that is no project (nothing changes).
// Results: a table on stdout, JSON in bench/results/.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(repo, 'bin', 'run.js');

const opts = { n: 20, prompts: 100 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--n') opts.n = Number(process.argv[++i]);
  else if (a === '--prompts') opts.prompts = Number(process.argv[++i]);
  else {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

const SHELLS = [
  { name: 'bash', rc: '.bashrc', args: ['-i', '-c', 'exit'] },
  { name: 'zsh', rc: '.zshrc', args: ['-i', '-c', 'exit'] },
  { name: 'fish', rc: '.config/fish/config.fish', args: ['-i', '-c', 'exit'] },
];
const available = SHELLS.filter((s) => spawnSync(s.name, ['-c', 'exit 0']).status === 0);

const root = mkdtempSync(join(tmpdir(), 'blast-bench-shell-'));

function home(label, shell) {
  const dir = join(root, `${shell.name}-${label}`);
  mkdirSync(join(dir, '.config', 'fish'), { recursive: true });
  // fish's first start would generate completions in the background; the folder says it did.
  mkdirSync(join(dir, '.local', 'share', 'fish', 'generated_completions'), { recursive: true });
  writeFileSync(join(dir, shell.rc), '');
  return dir;
}

function envOf(dir) {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    BLAST_HOME: join(dir, 'blast'),
    BLAST_CACHE_DIR: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, '.config'),
    XDG_DATA_HOME: join(dir, '.local', 'share'),
    XDG_CACHE_HOME: join(dir, '.cache'),
  };
}

function must(r, what) {
  if (r.status !== 0) {
    process.stderr.write(`bench: ${what} failed (${r.status ?? r.signal}):\n${r.stderr}\n`);
    process.exit(1);
  }
  return r;
}

function time(file, args, options) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { encoding: 'utf8', ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  must(r, `${file} ${args.join(' ')}`);
  return ms;
}

const round = (x) => Math.round(x * 100) / 100;

const results = { n: opts.n, prompts: opts.prompts, startup: {}, prompt: {} };

for (const shell of available) {
  const empty = home('empty', shell);
  const sourced = home('sourced', shell);
  const evaled = home('eval', shell);
  const auto = home('auto', shell);
  must(
    spawnSync(process.execPath, [bin, 'init', shell.name, '--install'], {
      env: envOf(sourced),
      encoding: 'utf8',
    }),
    'install',
  );
  must(
    spawnSync(process.execPath, [bin, 'init', shell.name, '--install', '--auto'], {
      env: envOf(auto),
      encoding: 'utf8',
    }),
    'install --auto',
  );
  const evalLine =
    shell.name === 'fish' ? `${bin} init fish | source\n` : `eval "$(${bin} init ${shell.name})"\n`;
  writeFileSync(join(evaled, shell.rc), evalLine);

  // Start-up, round-robin, the order alternating; the old eval line (a whole Node start, which
  // loads the machine for the run after it) in a loop of its own.
  const t = { empty: [], sourced: [], eval: [] };
  const once = (label, dir) =>
    t[label].push(time(shell.name, shell.args, { env: envOf(dir), cwd: dir, input: '' }));
  for (let i = 0; i < opts.n; i++) {
    const pair = [
      ['empty', empty],
      ['sourced', sourced],
    ];
    for (const [label, dir] of i % 2 ? pair.reverse() : pair) once(label, dir);
  }
  for (let i = 0; i < Math.max(3, opts.n >> 2); i++) once('eval', evaled);
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  results.startup[shell.name] = {
    medianMs: { empty: round(m.empty), sourced: round(m.sourced), eval: round(m.eval) },
    addedMs: { sourced: round(m.sourced - m.empty), eval: round(m.eval - m.empty) },
    ratio: { sourced: round(m.sourced / m.empty), eval: round(m.eval / m.empty) },
  };

  // The line alone, without the shell's own start-up around it (which varies by more than the line
  // costs on a loaded machine): the rc line run 100 times in one shell, against a loop doing nothing.
  const line = readFileSync(join(sourced, shell.rc), 'utf8')
    .split('\n')
    .find((l) => l.includes('/init/blast.'));
  const loop = (body) =>
    shell.name === 'fish' ? `for i in (seq 100); ${body}; end` : `for i in $(seq 100); do ${body}; done`;
  const l = { line: [], nothing: [] };
  for (let i = 0; i < opts.n; i++) {
    for (const [label, body] of [
      ['nothing', ':'],
      ['line', line],
    ]) {
      const args =
        shell.name === 'fish'
          ? ['--no-config', '-c', loop(body === ':' ? 'true' : body)]
          : ['-c', loop(body)];
      l[label].push(
        time(
          shell.name,
          shell.name === 'bash' ? ['--norc', ...args] : shell.name === 'zsh' ? ['-f', ...args] : args,
          { env: envOf(sourced), cwd: sourced, input: '' },
        ),
      );
    }
  }
  results.startup[shell.name].lineMs = round((median(l.line) - median(l.nothing)) / 100);

  // Prompts: P empty lines from a pipe, with and without the hook, round-robin.
  // From a file: node's stdin pipes are sockets, which fish refuses to read commands from.
  const input = join(root, 'prompts');
  writeFileSync(input, ':\n'.repeat(opts.prompts));
  const p = { without: [], with: [] };
  // fish reads a non-terminal stdin without prompts (no fish_prompt events): there, each of P
  // iterations emits the event its prompt would.
  const fishLoop = `for i in (seq ${opts.prompts}); emit fish_prompt; end`;
  for (let i = 0; i < Math.max(5, opts.n >> 1); i++) {
    for (const [label, dir] of [
      ['without', sourced],
      ['with', auto],
    ]) {
      if (shell.name === 'fish') {
        p[label].push(time('fish', ['-i', '-c', fishLoop], { env: envOf(dir), cwd: dir, input: '' }));
        continue;
      }
      const fd = openSync(input, 'r');
      p[label].push(
        time(shell.name, ['-i', '-s'], { env: envOf(dir), cwd: dir, stdio: [fd, 'pipe', 'pipe'] }),
      );
      closeSync(fd);
    }
  }
  const pw = median(p.with);
  const po = median(p.without);
  results.prompt[shell.name] = {
    medianMs: { without: round(po), with: round(pw) },
    perPromptMs: round((pw - po) / opts.prompts),
  };
}

const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
const file = join(out, `shell-startup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
for (const [name, r] of Object.entries(results.startup)) {
  process.stdout.write(
    `${name.padEnd(5)} start-up: empty rc ${r.medianMs.empty} ms, sourced line +${r.addedMs.sourced} ms (x${r.ratio.sourced}), old eval line +${r.addedMs.eval} ms (x${r.ratio.eval}); the line alone ${r.lineMs} ms\n`,
  );
  const q = results.prompt[name];
  process.stdout.write(
    `${''.padEnd(5)} --auto hook: ${q.perPromptMs} ms per prompt when nothing changes (${opts.prompts} prompts: ${q.medianMs.without} → ${q.medianMs.with} ms)\n`,
  );
}
process.stdout.write(`JSON: ${file}\n`);
rmSync(root, { recursive: true, force: true });
