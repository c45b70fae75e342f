/**
 * The hook contract through the real CLI and real oclif plugins linked the way users link them:
 * failures are reported by plugin name, vetoes stop cleanly with their exit code and leave
 * nothing behind, informational failures are warnings, incompatible plugins are skipped.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CORE_BLAST_VARIABLES } from '../src/lib/plugin-host/activation-contributions.js';
import { blast, FIXTURES, linkPlugin, REPO, sandbox, throughFunction, type Sandbox } from './support/cli.js';

describe('plugin contract (real CLI, linked plugins)', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let log: string;
  const behave = (spec: object) => ({ BLAST_FIXTURE: JSON.stringify(spec), BLAST_FIXTURE_LOG: log });
  const events = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { event: string; env: string | null })
      : [];
  const registryNames = () => {
    const run = blast(box, ['list', '--json', '--no-size']);
    expect(run.status, run.stderr).to.equal(0);
    return (JSON.parse(run.stdout) as Array<{ name: string }>).map((e) => e.name);
  };

  beforeEach(() => {
    box = sandbox();
    log = join(box.root, 'events.log');
    linkPlugin(box, join(FIXTURES, 'blast-fixture'));
  });
  afterEach(() => box.cleanup());

  it('runs preStart, activate and postStart, one phase after another, and uses the contribution', () => {
    const run = throughFunction(box, ['start', 'demo'], {
      env: behave({
        activate: {
          return: {
            set: { FIXTURE_VAR: 'from plugin' },
            pathPrepend: ['/fixture/bin'],
            notes: ['fixture note'],
          },
        },
      }),
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(events().map((e) => e.event)).to.deep.equal(['preStart', 'activate', 'postStart']);
    expect(run.script).to.include("FIXTURE_VAR='from plugin'");
    expect(run.script).to.match(/PATH='[^']*\/envs\/demo\/bin:\/fixture\/bin:/);
    expect(run.stderr).to.include('fixture note');
  });

  it('a preStart veto stops start with the plugin named, no stack, nothing created', () => {
    const run = throughFunction(box, ['start', 'vetoed'], {
      env: behave({ preStart: { throw: 'policy says no' } }),
    });
    expect(run.status).to.equal(4);
    expect(run.stderr).to.include('preStart stopped by plugin blast-fixture: policy says no');
    expect(run.stderr).not.to.match(/\n\s+at /);
    expect(run.script).to.equal('');
    expect(existsSync(join(box.blastHome, 'envs', 'vetoed'))).to.equal(false);
    expect(registryNames()).to.deep.equal([]);
    expect(events().map((e) => e.event)).to.deep.equal(['preStart']);
  });

  it("a veto through oclif's this.error keeps its exit code", () => {
    const run = throughFunction(box, ['start', 'coded'], {
      env: behave({ preStart: { error: 'quota exceeded', exit: 7 } }),
    });
    expect(run.status).to.equal(7);
    expect(run.stderr).to.include('blast-fixture: quota exceeded');
    expect(existsSync(join(box.blastHome, 'envs', 'coded'))).to.equal(false);
  });

  it('a failing activate handler stops start and names the plugin; the shell is not changed', () => {
    const run = throughFunction(box, ['start', 'demo'], {
      env: behave({ activate: { throw: 'no socket' } }),
    });
    expect(run.status).to.not.equal(0);
    expect(run.stderr).to.include('activate failed in plugin blast-fixture: no socket');
    expect(run.script).to.equal('');
  });

  it('refuses a contribution that sets a variable the core or the shell adapters own', () => {
    for (const name of ['PATH', 'BLAST_SHELL_STATE', '_BLAST_PROMPT', 'bad-name']) {
      const run = throughFunction(box, ['start', 'demo'], {
        env: behave({ activate: { return: { set: { [name]: 'x' } } } }),
      });
      expect(run.status, name).to.equal(1);
      expect(run.stderr).to.include(`Plugin blast-fixture tried to set ${JSON.stringify(name)}`);
      expect(run.script).to.equal('');
    }
  });

  it('refuses a contribution that sets a BLAST_* variable the core reads', () => {
    for (const name of ['BLAST_YES', 'BLAST_HOME', 'BLAST_TEST_CRASH_AT', 'BLAST_KEEP_REVISIONS']) {
      const run = throughFunction(box, ['start', 'demo'], {
        env: behave({ activate: { return: { set: { [name]: '1' } } } }),
      });
      expect(run.status, name).to.equal(1);
      expect(run.stderr).to.include(
        `Plugin blast-fixture tried to set ${JSON.stringify(name)}: the core manages it`,
      );
      expect(run.script).to.equal('');
    }
  });

  it('every BLAST_* variable the core mentions is one plugins may not set', () => {
    // The list in contributions.ts must follow the core: a new BLAST_* setting the core reads
    // would otherwise be settable by any plugin's activation.
    const mentioned = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.ts'))
          for (const m of readFileSync(join(dir, e.name), 'utf8').matchAll(/\bBLAST_[A-Z0-9_]*[A-Z0-9]\b/g))
            mentioned.add(m[0]);
      }
    };
    walk(join(REPO, 'src'));
    // Not variables: a constant's name, and names the core mentions as plugins' own.
    for (const name of ['BLAST_EVENTS', 'BLAST_SOCKET', 'BLAST_LIMITS_SAVED']) mentioned.delete(name);
    expect([...mentioned].filter((n) => !CORE_BLAST_VARIABLES.has(n)).sort()).to.deep.equal([]);
  });

  it('refuses PATH entries that are empty, relative or hold ":", naming the plugin; nothing is activated', () => {
    for (const entry of ['', 'bin', './tools', '/a:/b', '/ok:']) {
      const run = throughFunction(box, ['start', 'demo'], {
        env: behave({ activate: { return: { pathPrepend: ['/fixture/bin', entry] } } }),
      });
      expect(run.status, JSON.stringify(entry)).to.equal(1);
      expect(run.stderr).to.include(`Plugin blast-fixture tried to put ${JSON.stringify(entry)} on PATH:`);
      expect(run.stderr).not.to.match(/\n\s+at /);
      expect(run.script).to.equal('');
    }
  });

  it('a failing postStart handler is a warning; the activation stands', () => {
    const run = throughFunction(box, ['start', 'demo'], {
      env: behave({ postStart: { throw: 'could not say hello' } }),
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.include('postStart: plugin blast-fixture failed: could not say hello');
    expect(run.script).to.include('VIRTUAL_ENV=');
  });

  it('a preKill veto keeps the environment active; --force goes on', () => {
    const started = throughFunction(box, ['start', 'demo']);
    expect(started.status, started.stderr).to.equal(0);
    const state = /BLAST_SHELL_STATE='([^']*)'/.exec(started.script)![1]!;
    const active = { BLAST_SHELL_STATE: state, VIRTUAL_ENV: join(box.blastHome, 'envs', 'demo') };
    const vetoed = throughFunction(box, ['kill'], {
      env: { ...active, ...behave({ preKill: { throw: 'busy' } }) },
    });
    expect(vetoed.status).to.equal(4);
    expect(vetoed.stderr).to.include('preKill stopped by plugin blast-fixture: busy');
    expect(vetoed.script).to.equal('');
    const forced = throughFunction(box, ['kill', '--force'], {
      env: { ...active, ...behave({ preKill: { throw: 'busy' } }) },
    });
    expect(forced.status, forced.stderr).to.equal(0);
    expect(forced.stderr).to.include('busy');
    expect(forced.script).to.include('unset');
  });

  it('check includes plugin results, and a throwing check handler is a failed check named after it', () => {
    const ok = blast(box, ['check', '--json'], {
      env: behave({ check: { return: [{ name: 'fixture check', status: 'warn', message: 'just saying' }] } }),
    });
    expect(ok.status, ok.stderr).to.equal(0);
    const report = JSON.parse(ok.stdout) as {
      checks: Array<{ source: string; name: string; status: string }>;
    };
    expect(report.checks).to.deep.include({
      source: 'blast-fixture',
      name: 'fixture check',
      status: 'warn',
      message: 'just saying',
    });
    const bad = blast(box, ['check', '--json'], { env: behave({ check: { throw: 'cannot look' } }) });
    expect(bad.status).to.equal(5);
    const failed = (
      JSON.parse(bad.stdout) as { checks: Array<{ source: string; status: string; message: string }> }
    ).checks;
    expect(failed).to.deep.include({
      name: 'plugin check',
      status: 'fail',
      message: 'cannot look',
      source: 'blast-fixture',
    });
  });

  it('clean runs plugin actions, and --dry-run only lists them', () => {
    const marker = join(box.root, 'marker');
    const dry = blast(box, ['clean', '--dry-run'], { env: behave({ clean: { marker } }) });
    expect(dry.status, dry.stderr).to.equal(0);
    expect(dry.stdout).to.include(`would remove ${marker}`);
    expect(existsSync(marker)).to.equal(false);
    const wet = blast(box, ['clean'], { env: behave({ clean: { marker } }) });
    expect(wet.status, wet.stderr).to.equal(0);
    expect(readFileSync(marker, 'utf8')).to.equal('cleaned');
  });

  it('passes the shell pid: the calling shell through the function', () => {
    const run = throughFunction(box, ['start', 'demo'], { env: behave({}) });
    expect(run.status, run.stderr).to.equal(0);
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { shellPid: number });
    // spawnSync makes this test process the CLI's parent, as the shell is under the function.
    expect(lines.map((l) => l.shellPid)).to.deep.equal([process.pid, process.pid, process.pid]);
  });

  it('list shows what plugins report about each environment, in text and --json', () => {
    expect(throughFunction(box, ['start', 'demo']).status).to.equal(0);
    const fields = { daemon: 'running', rss: 1234, cpu: null };
    const json = blast(box, ['list', '--json', '--no-size'], { env: behave({ list: { fields } }) });
    expect(json.status, json.stderr).to.equal(0);
    const [entry] = JSON.parse(json.stdout) as Array<{ plugins: Record<string, unknown> }>;
    // Other plugins (the bundled daemon) report too; this one's fields arrive unchanged under its name.
    expect(entry!.plugins['blast-fixture']).to.deep.equal(fields);
    const text = blast(box, ['list', '--no-size'], { env: behave({ list: { fields } }) });
    expect(text.stdout).to.match(/demo\s.*daemon=running rss=1234/);
    // A fact without a value is in --json (null), not in the table.
    expect(text.stdout).not.to.include('cpu=');
    const failing = blast(box, ['list', '--no-size'], { env: behave({ list: { throw: 'no daemon info' } }) });
    expect(failing.status).to.equal(0);
    expect(failing.stderr).to.include('list: plugin blast-fixture failed: no daemon info');
  });

  it('skips a plugin written for another API version, with a warning', () => {
    linkPlugin(box, join(FIXTURES, 'blast-fixture-incompatible'));
    const run = throughFunction(box, ['start', 'demo']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.include(
      'plugin blast-fixture-incompatible skipped: it needs Blast plugin API ^2.0.0',
    );
  });

  it("gives every event a ctx with the core's paths and the command line that runs Blast (API 1.5)", () => {
    expect(throughFunction(box, ['start', 'demo'], { env: behave({}) }).status).to.equal(0);
    expect(blast(box, ['list', '--json', '--no-size'], { env: behave({}) }).status).to.equal(0);
    type Ctx = {
      apiVersion: string;
      home: string;
      stateDir: string;
      runtimeDir: string;
      cacheDir: string;
      cli: string[];
      envStateDir: string | null;
      sawEnv: string | null;
    };
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; ctx: Ctx | null });
    expect(lines.map((l) => l.event)).to.include.members(['preStart', 'activate', 'postStart', 'list']);
    const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      oclif: { blast: { apiVersion: string } };
    };
    for (const { event, ctx } of lines) {
      expect(ctx, event).to.not.equal(null);
      expect(ctx!.apiVersion, event).to.equal(pjson.oclif.blast.apiVersion);
      expect(ctx!.home, event).to.equal(box.blastHome);
      expect(ctx!.stateDir, event).to.equal(join(box.blastHome, 'state'));
      expect(ctx!.sawEnv, event).to.equal(box.blastHome);
      expect(ctx!.envStateDir, event).to.match(/\/state\/envs\/[0-9a-f]{16}$/);
    }
    // One environment, one state directory, whichever event asks.
    expect(new Set(lines.map((l) => l.ctx!.envStateDir)).size).to.equal(1);
    // ctx.cli runs this very Blast.
    const [node, ...args] = lines[0]!.ctx!.cli;
    const version = spawnSync(node!, [...args, '--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).to.equal(0);
    expect(version.stdout).to.match(/^blast\//);
  });

  it('honours an error shaped like a BlastError from any plugin: its message, hint and exit code', () => {
    const run = throughFunction(box, ['start', 'shaped'], {
      env: behave({
        preStart: { shaped: { message: 'not on Fridays', hint: 'wait for Monday', exitCode: 9 } },
      }),
    });
    expect(run.status).to.equal(9);
    expect(run.stderr).to.include('preStart stopped by plugin blast-fixture: not on Fridays');
    expect(run.stderr).to.include('wait for Monday');
    expect(run.stderr).not.to.match(/\n\s+at /);
  });

  it('drops a plugin that answers only settings without declaring an API version', () => {
    linkPlugin(box, join(FIXTURES, 'blast-fixture-undeclared'));
    const run = blast(box, ['config', '--help']);
    expect(run.stderr).to.include(
      'plugin blast-fixture-undeclared skipped: it handles Blast events but declares no oclif.blast.apiVersion',
    );
    expect(run.stdout).not.to.include('undeclared-setting');
  });
});
