import { expect } from 'chai';
import type { EnvInfo, ShellChange } from '../src/lib/plugin-host/contract.js';
import {
  activeState,
  decodeState,
  forcedKillChange,
  killChange,
  STATE_VARIABLE,
  startChange,
  type Vars,
} from '../src/lib/shell/activation.js';
import { BlastError } from '../src/lib/cli/errors.js';

const python = { executable: '/usr/bin/python3', version: '3.11.2', implementation: 'CPython' };
const envA: EnvInfo = { name: 'a', path: '/envs/a', kind: 'named', python, settings: {} };
const envB: EnvInfo = { name: 'b b', path: '/envs/b b', kind: 'named', python, settings: {} };

/** What a shell's variables become after sourcing a change: the adapters' job, done on a map. */
function apply(vars: Vars, change: ShellChange): Record<string, string | undefined> {
  const next: Record<string, string | undefined> = { ...vars };
  for (const name of change.unset) delete next[name];
  for (const [name, value] of change.set) next[name] = value;
  for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
  return next;
}

const start = (vars: Vars, env: EnvInfo, variables: Record<string, string> = {}) =>
  apply(vars, startChange(vars, { env, variables, extraVariables: {}, extraPath: [] }));
const kill = (vars: Vars) => apply(vars, killChange(vars).change);
const SHIM = '/cache/shim/3.11';
const startWithShim = (vars: Vars, env: EnvInfo) =>
  apply(vars, startChange(vars, { env, variables: {}, extraVariables: {}, extraPath: [], shim: SHIM }));

describe('activation plan', () => {
  const shell = { PATH: '/usr/bin:/bin', HOME: '/home/u', EMPTY: '', PYTHONHOME: '/opt/py' };

  it('activates: env bin first on PATH, VIRTUAL_ENV, prompt name, PYTHONHOME unset', () => {
    const on = start(shell, envA);
    expect(on.PATH).to.equal('/envs/a/bin:/usr/bin:/bin');
    expect(on.VIRTUAL_ENV).to.equal('/envs/a');
    expect(on.VIRTUAL_ENV_PROMPT).to.equal('a');
    expect(on.BLAST_ENV).to.equal('a');
    expect(on).not.to.have.property('PYTHONHOME');
    expect(activeState(on)?.env.path).to.equal('/envs/a');
  });

  it('asks adapters to tag the prompt on start and restore it on kill', () => {
    const change = startChange(shell, { env: envB, variables: {}, extraVariables: {}, extraPath: [] });
    expect(change.prompt).to.deep.equal({ action: 'tag', tag: '(b b) ' });
    expect(killChange(apply(shell, change)).change.prompt).to.deep.equal({ action: 'restore' });
  });

  it('kill restores exactly: unset stays unset, empty stays empty', () => {
    const before = { ...shell, FOO: '' };
    const on = start(before, envA, { FOO: 'x', NEW: 'y\n$(z)' });
    expect(on.FOO).to.equal('x');
    expect(on.NEW).to.equal('y\n$(z)');
    expect(kill(on)).to.deep.equal(before);
  });

  it('switching A → B → kill restores the shell as it was before A', () => {
    const before = { ...shell, ONLY_A: 'orig' };
    const a = start(before, envA, { ONLY_A: 'a', SHARED: 'a' });
    const b = start(a, envB, { SHARED: 'b' });
    expect(b.PATH).to.equal('/envs/b b/bin:/usr/bin:/bin');
    expect(b.ONLY_A).to.equal('orig');
    expect(b.SHARED).to.equal('b');
    expect(b.VIRTUAL_ENV).to.equal('/envs/b b');
    expect(kill(b)).to.deep.equal(before);
  });

  it('adds no PATH separator when PATH was empty or unset', () => {
    const { PATH: _path, ...noPath } = shell;
    expect(start({ ...shell, PATH: '' }, envA).PATH).to.equal('/envs/a/bin');
    expect(kill(start({ ...shell, PATH: '' }, envA)).PATH).to.equal('');
    expect(start(noPath, envA).PATH).to.equal('/envs/a/bin');
    expect(kill(start(noPath, envA))).not.to.have.property('PATH');
  });

  it("keeps the user's later PATH additions and drops only Blast's entry", () => {
    const on = start(shell, envA);
    const edited = { ...on, PATH: `/mine:${on.PATH}:/tail` };
    expect(kill(edited).PATH).to.equal('/mine:/usr/bin:/bin:/tail');
  });

  it('keeps a variable the user changed after start', () => {
    const on = start(shell, envA, { FOO: 'blast' });
    expect(kill({ ...on, FOO: 'user' }).FOO).to.equal('user');
  });

  it('asks the shell to keep what may be a shell-only value under a name it sees unset, and give it back', () => {
    // FOO and NEW are unset in the exported environment, EMPTY is exported: only the first two
    // may hide an unexported value in the shell.
    const input = {
      env: envA,
      variables: { FOO: 'x', NEW: 'y', EMPTY: 'z' },
      extraVariables: {},
      extraPath: [],
    };
    const change = startChange(shell, input);
    expect(change.keep).to.deep.equal(
      ['FOO', 'NEW', 'VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT', 'BLAST_ENV', 'PKG_CONFIG_PATH'].sort(),
    );
    const on = apply(shell, change);
    // Switching to B, which sets NEW but not FOO: FOO goes back to unset (put back), NEW is
    // exported by A now, so there is nothing shell-only to keep for it.
    const switched = startChange(on, { ...input, env: envB, variables: { NEW: 'w' } });
    expect(switched.putBack).to.deep.equal(['FOO']);
    expect(switched.keep ?? []).to.deep.equal([]);
    // EMPTY was exported (empty) before A: it is set back, never put back.
    expect(switched.set).to.deep.include(['EMPTY', '']);
    const { change: killed } = killChange(apply(on, switched));
    expect(killed.putBack).to.deep.equal([
      'BLAST_ENV',
      'NEW',
      'PKG_CONFIG_PATH',
      'VIRTUAL_ENV',
      'VIRTUAL_ENV_PROMPT',
    ]);
    expect(killed.unset).to.include.members(killed.putBack!);
  });

  it('kill with nothing active is a clear error', () => {
    expect(() => killChange(shell)).to.throw(BlastError, /No Blast environment is active/);
  });

  it('refuses a damaged state instead of guessing', () => {
    for (const raw of [
      '',
      'garbage!',
      Buffer.from('{"v":2}').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
    ]) {
      expect(() => decodeState(raw), raw).to.throw(BlastError, /not readable/);
      expect(() => killChange({ ...shell, [STATE_VARIABLE]: raw })).to.throw(BlastError);
    }
  });

  it('kill --force on a damaged state drops Blast variables and the env bin from PATH', () => {
    const on = { ...start(shell, envA), [STATE_VARIABLE]: 'damaged' };
    const off = apply(on, forcedKillChange(on));
    expect(off.PATH).to.equal('/usr/bin:/bin');
    for (const name of [STATE_VARIABLE, 'BLAST_ENV', 'VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT'])
      expect(off).not.to.have.property(name);
  });

  it('puts the pip shim first, before the env bin; kill and a switch take it out again', () => {
    const on = startWithShim(shell, envA);
    expect(on.PATH).to.equal(`${SHIM}:/envs/a/bin:/usr/bin:/bin`);
    expect(activeState(on)?.pathEntries).to.deep.equal([SHIM, '/envs/a/bin']);
    expect(kill(on)).to.deep.equal(shell);
    const edited = { ...on, PATH: `/mine:${on.PATH}` };
    expect(kill(edited).PATH).to.equal('/mine:/usr/bin:/bin');
    expect(startWithShim(on, envB).PATH).to.equal(`${SHIM}:/envs/b b/bin:/usr/bin:/bin`);
    expect(start(on, envB).PATH).to.equal('/envs/b b/bin:/usr/bin:/bin');
  });

  it('kill --force on a damaged state takes the pip shim out of PATH too', () => {
    const vars = { ...shell, BLAST_CACHE_DIR: '/cache' };
    const on = { ...startWithShim(vars, envA), [STATE_VARIABLE]: 'damaged' };
    const off = apply(on, forcedKillChange(on));
    expect(off.PATH).to.equal('/usr/bin:/bin');
  });

  it('carries hostile values as data, byte for byte', () => {
    const hostile = ["'", '"', '`id`', '$(id)', '\\', '\n', 'é☃', '%n', '!!', ';', ''];
    for (const value of hostile) {
      const on = start(shell, envA, { V: value });
      expect(on.V).to.equal(value);
      expect(kill(on)).to.deep.equal(shell);
    }
  });
});
