/**
 * Resource limits, enforced for real: a Python process allocating past --memory dies (and the
 * same allocation succeeds without the policy), a fork loop under --max-procs stops at the limit
 * while the shell goes on, and `blast kill` gives the shell back its soft limits byte for byte —
 * in a real bash through the real shell function, and through `blast run`.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blast, sandbox, type Sandbox } from '../../../test/support/cli.js';
import { allocate, configure, inBash, makeEnv, unset } from './support.js';

const LIMIT_ROWS = /^(Max cpu time|Max data size|Max processes) /;
const rows = (limits: string) => limits.split('\n').filter((l) => LIMIT_ROWS.test(l));

describe('isolation: resource limits (real bash, real Python)', function () {
  this.timeout(180_000);
  let box: Sandbox;
  const file = (name: string) => readFileSync(join(box.root, name), 'utf8');

  before(() => {
    box = sandbox();
    makeEnv(box, 'plain');
  });
  after(() => box?.cleanup());

  it('blast run: under memory=128M a 300 MB allocation dies with MemoryError; without the policy it succeeds', () => {
    const free = blast(box, ['run', 'plain', '--', 'sh', '-c', allocate(300)]);
    expect(free.status, free.stderr).to.equal(0);
    expect(free.stdout).to.equal('allocated\n');

    configure(box, 'plain', 'memory=128M');
    try {
      const limited = blast(box, ['run', 'plain', '--', 'sh', '-c', allocate(300)]);
      expect(limited.status).to.equal(1);
      expect(limited.stderr).to.include('MemoryError');
      expect(limited.stdout).to.equal('');
      // Below the limit, the same environment works normally.
      const small = blast(box, ['run', 'plain', '--', 'sh', '-c', allocate(16)]);
      expect(small.status, small.stderr).to.equal(0);
      // And the limit is the command's hard limit too: it cannot raise it again.
      const raise = blast(box, ['run', 'plain', '--', 'sh', '-c', 'ulimit -d unlimited']);
      expect(raise.status).not.to.equal(0);
    } finally {
      unset(box, 'plain', 'memory');
    }
  });

  it('cpu-time: a busy loop is stopped by SIGXCPU (status 152) after its CPU seconds; short work finishes', () => {
    configure(box, 'plain', 'cpu-time=1');
    try {
      const busy = blast(box, ['run', 'plain', '--', 'python', '-c', 'while True: pass']);
      expect(busy.status).to.equal(128 + 24);
      const short = blast(box, ['run', 'plain', '--', 'python', '-c', 'print(sum(range(10**5)))']);
      expect(short.status, short.stderr).to.equal(0);
      expect(short.stdout).to.equal('4999950000\n');
    } finally {
      unset(box, 'plain', 'cpu-time');
    }
  });

  it('activated shell: start --memory limits every command; kill restores the soft limits exactly and the allocation works again', () => {
    const run = inBash(
      box,
      `
      ulimit -S -d 4000000    # a soft limit of the user's own, which must come back as it was
      ulimit -S -t 5000
      cat /proc/$$/limits >| "$ROOT/before"
      blast start shellmem --memory 128M --cpu-time 100 --max-procs 5000 || exit 10
      cat /proc/$$/limits >| "$ROOT/during"
      ${allocate(300)}; echo "limited=$?"
      blast kill || exit 11
      cat /proc/$$/limits >| "$ROOT/after"
      ${allocate(300)}; echo "free=$?"
      `,
      { env: { ROOT: box.root } },
    );
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include('limited=1\n');
    expect(run.stderr).to.include('MemoryError');
    expect(run.stdout).to.include('allocated\nfree=0\n');
    expect(run.stderr).to.include(
      'isolation: this shell now runs under memory=128M max-procs=5000 cpu-time=100s',
    );
    const during = rows(file('during')).join('\n');
    expect(during).to.match(/^Max data size +134217728 /m);
    expect(during).to.match(/^Max cpu time +100 /m);
    expect(during).to.match(/^Max processes +5000 /m);
    // Hard limits untouched, soft ones back exactly: the whole file is as before.
    expect(file('after')).to.equal(file('before'));
    expect(rows(file('before'))).to.have.length(3);
  });

  it('switching to an environment without limits gives the shell its own back (and blast run of it too); kill after it too', () => {
    makeEnv(box, 'other');
    const run = inBash(
      box,
      `
      cat /proc/$$/limits >| "$ROOT/before"
      blast start switch --memory 256M || exit 10
      grep 'Max data size' /proc/$$/limits
      blast run other -- sh -c ${JSON.stringify(allocate(300))}; echo "run-other=$?"
      blast run switch -- sh -c ${JSON.stringify(allocate(300))} 2>/dev/null; echo "run-switch=$?"
      blast start other || exit 11
      cat /proc/$$/limits >| "$ROOT/switched"
      ${allocate(300)}; echo "other=$?"
      blast kill || exit 12
      cat /proc/$$/limits >| "$ROOT/after"
      `,
      { env: { ROOT: box.root } },
    );
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^Max data size +268435456 /m);
    expect(run.stdout).to.include('allocated\nother=0\n');
    // blast run of another environment from the limited shell: that one's policy, not this shell's.
    expect(run.stdout).to.include('allocated\nrun-other=0\n');
    expect(run.stdout).to.include('run-switch=1\n');
    expect(file('switched')).to.equal(file('before'));
    expect(file('after')).to.equal(file('before'));
  });

  it('max-procs: a fork loop in the activated shell stops at the limit, and the shell survives', function () {
    // RLIMIT_NPROC counts the processes of the real user, and the kernel never applies it to
    // root: the loop runs as nobody, started from the activated shell, whose limits it inherits.
    if (process.getuid?.() !== 0) this.skip();
    const loop = `setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'i=0; while [ $i -lt 100 ]; do sleep 2 & i=$((i+1)); echo $i; done' 2>/dev/null | tail -n 1`;
    const run = inBash(
      box,
      `
      blast start procs --max-procs 20 || exit 10
      echo "limited=$(${loop})"
      echo "shell alive: $$"
      blast kill || exit 11
      echo "free=$(${loop})"
      `,
    );
    expect(run.status, run.stderr).to.equal(0);
    const limited = Number(/^limited=(\d+)$/m.exec(run.stdout)?.[1]);
    expect(limited, run.stdout).to.be.within(1, 19);
    expect(run.stdout).to.match(/^shell alive: \d+$/m);
    expect(run.stdout).to.include('free=100\n');
  });

  it('a stored policy that cannot be enforced (no-network outside the sandbox) stops start: exit 4, shell unchanged', () => {
    configure(box, 'plain', 'isolation=limits', 'no-network=true');
    try {
      const run = inBash(box, 'blast start plain; echo "status=$? venv=${VIRTUAL_ENV-unset}"');
      expect(run.stdout).to.include('status=4 venv=unset');
      expect(run.stderr).to.include(
        'preStart stopped by plugin @blast/isolation: no-network needs --isolation sandbox',
      );
      expect(run.stderr).not.to.match(/\n\s+at /);
    } finally {
      unset(box, 'plain', 'isolation', 'no-network');
    }
  });
});
