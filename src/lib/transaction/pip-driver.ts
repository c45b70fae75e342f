/**
 * pip with one resolution: the environment's own pip, started through a small driver that stops
 * it between its resolver and its installer. pip resolves once, sends its installation report
 * (the `--report` JSON) to Blast over fd 3 and waits; Blast shows and judges the plan (the
 * `reviewInstall` event) while pip waits, then says go or stop. pip then installs exactly what it
 * resolved — nothing is resolved twice, and pip's own output, options and behaviour are pip's.
 *
 * Nothing in the environment changes before the answer: pip reads the installed distributions
 * and builds metadata in temporary directories while it resolves. A driver that cannot hook the
 * resolver (a pip without the internals it patches) says so first and waits for go before pip
 * runs at all, so the transaction's snapshot always comes before any change. When Blast dies, fd 3
 * reaches its end and pip exits without installing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pipInvocation, type PipLaunch } from './pip-process.js';
import type { Duplex } from 'node:stream';
import type { PipReport } from '../plugin-host/contract.js';
import { exitStatus } from '../cli/exit-status.js';

/** What the driver says once pip resolved (or why it could not stop pip there). */
export type DriverMessage = { report: PipReport } | { unpatched: string };

/** Blast's verdict: go (optionally without the distributions `skip` names), or stop with `exit`. */
export type DriverAnswer = { go: true; skip?: string[] } | { go: false; exit?: number };

// The driver (pip 22.2+ for the hook, when the installation report came; older pips just run,
// said as `unpatched`).
// `make_resolver` is where every pip install gets its resolver; its `resolve` is wrapped so the
// report of the resolved set goes out and the answer comes back before `resolve` returns. A stop
// cleans pip's temporary directories and exits at once: raising through pip would print a traceback.
export const DRIVER = String.raw`
import json, os, re, sys

def _talk(message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(3, data):]
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = os.read(3, 65536)
        if not chunk:
            break
        answer += chunk
    try:
        return json.loads(answer.decode() or "{}")
    except ValueError:
        return {}

def _stop(code):
    try:
        from pip._internal.utils import temp_dir
        if temp_dir._tempdir_manager is not None:
            temp_dir._tempdir_manager.close()
    except Exception:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

def _review(requirement_set):
    to_install = requirement_set.requirements_to_install
    answer = _talk({"report": InstallationReport(to_install).to_dict()})
    if not answer.get("go"):
        _stop(int(answer.get("exit", 1)))
    _skip.update(answer.get("skip") or [])

def _name(req):
    return re.sub(r"[-_.]+", "-", req.name or "").lower()

# What Blast linked from its store: resolved and reported like the rest, left out of the install.
_skip = set()

try:
    from pip._internal.commands import install as _install
    from pip._internal.models.installation_report import InstallationReport  # pip 22.2+
    _make = _install.InstallCommand.make_resolver
    def _make_resolver(self, *args, **kwargs):
        resolver = _make(*args, **kwargs)
        resolve = resolver.resolve
        def reviewed(*rargs, **rkwargs):
            requirement_set = resolve(*rargs, **rkwargs)
            _review(requirement_set)
            return requirement_set
        resolver.resolve = reviewed
        order = resolver.get_installation_order
        resolver.get_installation_order = lambda *oargs, **okwargs: [
            r for r in order(*oargs, **okwargs) if _name(r) not in _skip
        ]
        return resolver
    _install.InstallCommand.make_resolver = _make_resolver
except Exception as error:
    if not _talk({"unpatched": repr(error)}).get("go"):
        _stop(1)

try:
    from pip._internal.cli.main import main
except ImportError:  # pip before 19.3
    from pip._internal import main
sys.exit(main(sys.argv[1:]))
`;

export interface DrivenPip {
  pid: number | undefined;
  /** The driver's message; undefined when pip ended before sending one (it failed before resolving). */
  message: Promise<DriverMessage | undefined>;
  answer(answer: DriverAnswer): void;
  /** pip's exit status. */
  exit: Promise<number>;
  /** Ends pip at once (it is waiting, before any change). */
  kill(): void;
}

/**
 * Start the environment's pip under the driver, terminal untouched (fd 0-2 inherited), through the
 * one pip launcher: wrapped as every pip Blast runs (the install sandbox passes fd 3 through).
 */
export async function startDrivenPip(launch: PipLaunch): Promise<DrivenPip> {
  const run = await pipInvocation({ ...launch, program: ['-c', DRIVER] });
  const child: ChildProcess = spawn(run.command, run.args, {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: run.env as NodeJS.ProcessEnv,
    cwd: run.cwd,
  });
  const channel = child.stdio[3] as Duplex;
  // Ctrl-C goes to pip (same process group); Blast must live on to roll back.
  const ignore = () => {};
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of signals) process.on(s, ignore);
  const exit = new Promise<number>((done, fail) => {
    child.on('error', fail);
    child.on('exit', (code, signal) => done(exitStatus(code, signal)));
  }).finally(() => {
    for (const s of signals) process.off(s, ignore);
  });
  const message = new Promise<DriverMessage | undefined>((done) => {
    let text = '';
    channel.setEncoding('utf8');
    channel.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end === -1) return;
      try {
        done(JSON.parse(text.slice(0, end)) as DriverMessage);
      } catch {
        done(undefined);
      }
    });
    channel.on('end', () => done(undefined));
    channel.on('error', () => done(undefined));
    child.on('exit', () => done(undefined));
  });
  exit.catch(() => {});
  return {
    pid: child.pid,
    message,
    answer: (answer) => {
      channel.end(`${JSON.stringify(answer)}\n`);
    },
    exit,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
