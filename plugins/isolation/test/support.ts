/**
 * What the isolation tests share: environments made through the real CLI, and a real bash in which
 * the `blast` shell function (from `blast init bash`) runs — so the activated shell whose limits
 * change is that bash, never the test runner (the CLI takes its parent as the shell).
 */
import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { BIN, blast, type Run, type Sandbox } from '../../../test/support/cli.js';

/** Run `script` in bash with the blast function defined, as a user's shell would. */
export function inBash(
  box: Sandbox,
  script: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Run {
  const init = `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} init bash)"\n`;
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', init + script], {
    env: { ...box.env, ...options.env },
    cwd: options.cwd ?? box.home,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.error) throw run.error;
  return { stdout: run.stdout, stderr: run.stderr, status: run.status ?? 128 };
}

/** Make a named environment without any policy, returning its path. */
export function makeEnv(box: Sandbox, name: string): string {
  const made = inBash(box, `blast start ${name} && blast kill`);
  expect(made.status, made.stderr).to.equal(0);
  return envPath(box, name);
}

export function envPath(box: Sandbox, name: string): string {
  return `${box.blastHome}/envs/${name}`;
}

/** Change settings the way a user would later. */
export function configure(box: Sandbox, name: string, ...assignments: string[]): void {
  const run = blast(box, ['config', '--env', name, ...assignments]);
  expect(run.status, run.stderr).to.equal(0);
}

export function unset(box: Sandbox, name: string, ...names: string[]): void {
  const run = blast(box, ['config', '--env', name, ...names.flatMap((n) => ['--unset', n])]);
  expect(run.status, run.stderr).to.equal(0);
}

/** `blast run` without blocking this process (a server in it must go on accepting meanwhile). */
export function blastAsync(box: Sandbox, args: string[], cwd = box.home): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: box.env,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, status: code ?? (signal ? 128 : 1) }));
  });
}

/** A Python command that allocates MB megabytes at once, then prints `allocated`. */
export const allocate = (mb: number, python = 'python') =>
  `${python} -c "b = bytearray(${mb} * 1024 * 1024); print('allocated')"`;
