import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  changeBetween,
  classifyPip,
  distVersions,
  ensureShim,
  parsePip,
  shimNames,
  undoneLines,
} from '../../src/lib/transaction/index.js';

describe('pip transactions: the parts', () => {
  it('parses a pip command line once, for the core and for plugins (InstallEvent.pip)', () => {
    expect(
      parsePip(['--log', 'f', 'install', '-qq', '-U', '-rreqs.txt', '--report=x.json', 'alpha', '-e', '.']),
    ).to.deep.equal({
      command: 'install',
      requirements: ['alpha'],
      options: {
        log: ['f'],
        quiet: ['', ''],
        upgrade: [''],
        requirement: ['reqs.txt'],
        report: ['x.json'],
        editable: ['.'],
      },
      verbosity: -2,
    });
    expect(parsePip(['uninstall', '-y', 'x', '-vq', '--', '-odd'])).to.deep.equal({
      command: 'uninstall',
      requirements: ['x', '-odd'],
      options: { yes: [''], verbose: [''], quiet: [''] },
      verbosity: 0,
    });
  });

  it('classifies pip command lines', () => {
    expect(classifyPip(['install', 'x'])).to.equal('install');
    expect(classifyPip(['-q', 'install', 'x'])).to.equal('install');
    expect(classifyPip(['--log', 'install', 'uninstall', 'x'])).to.equal('uninstall');
    expect(classifyPip(['uninstall', '-y', 'x'])).to.equal('uninstall');
    expect(classifyPip(['list'])).to.equal('read-only');
    expect(classifyPip(['--version'])).to.equal('read-only');
    expect(classifyPip([])).to.equal('read-only');
    expect(classifyPip(['install', '--help'])).to.equal('read-only');
    for (const c of [
      'show',
      'freeze',
      'help',
      'check',
      'config',
      'cache',
      'download',
      'hash',
      'inspect',
      'index',
      'debug',
      'wheel',
    ])
      expect(classifyPip([c]), c).to.equal('read-only');
    expect(classifyPip(['frobnicate'])).to.equal('other');
  });

  it('computes the change between two sets of distributions, names normalised', () => {
    const before = distVersions([
      { name: 'Alpha', version: '1.0' },
      { name: 'gone_pkg', version: '3' },
      { name: 'same', version: '1' },
    ]);
    const after = distVersions([
      { name: 'alpha', version: '2.0' },
      { name: 'new', version: '0.1' },
      { name: 'same', version: '1' },
    ]);
    const change = changeBetween(before, after);
    expect(change).to.deep.equal({
      added: ['new 0.1'],
      removed: ['gone_pkg 3'],
      upgraded: ['Alpha 1.0 -> 2.0'],
    });
    expect(undoneLines(change)).to.deep.equal([
      '  removed new 0.1',
      '  put back gone_pkg 3',
      '  put back Alpha 1.0 (instead of 2.0)',
    ]);
  });

  it('writes the shim once, executable, quoting hostile paths for sh', () => {
    const root = mkdtempSync(join(tmpdir(), "blast shim '$(x)` "));
    try {
      const env = { BLAST_CACHE_DIR: join(root, 'cache') };
      const fake = join(root, "fake 'node");
      execFileSync('sh', [
        '-c',
        `printf '#!/bin/sh\\nprintf "%%s\\\\n" "$@"\\n' > "$1" && chmod +x "$1"`,
        'sh',
        fake,
      ]);
      const dir = ensureShim('3.12.1', fake, join(root, "run '$HOME'.js"), env);
      expect(shimNames('3.12.1')).to.deep.equal(['pip', 'pip3', 'pip3.12']);
      expect(ensureShim('3.12.4', fake, join(root, "run '$HOME'.js"), env)).to.equal(dir);
      const venv = join(root, "env '$(x)");
      execFileSync('sh', ['-c', `mkdir -p "$1/bin" && cp "$2" "$1/bin/python"`, 'sh', venv, fake]);
      const { VIRTUAL_ENV: _unset, ...noVenv } = process.env;
      const active = { ...noVenv, VIRTUAL_ENV: venv };
      for (const name of shimNames('3.12.1')) {
        const out = execFileSync(join(dir, name), ['install', 'a b', '$(no)'], {
          encoding: 'utf8',
          env: active,
        });
        expect(out.split('\n')).to.deep.equal([
          join(root, "run '$HOME'.js"),
          'pip',
          '--',
          'install',
          'a b',
          '$(no)',
          '',
        ]);
        // Read-only commands skip Node: straight to the active environment's pip.
        for (const args of [['list', '--format=json'], ['--version'], ['show', 'a b']]) {
          const direct = execFileSync(join(dir, name), args, { encoding: 'utf8', env: active });
          expect(direct.split('\n')).to.deep.equal(['-m', 'pip', ...args, '']);
        }
        // Without an environment they go through Blast, which explains.
        const through = execFileSync(join(dir, name), ['list'], { encoding: 'utf8', env: noVenv });
        expect(through.split('\n')).to.deep.equal([join(root, "run '$HOME'.js"), 'pip', '--', 'list', '']);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
