/** The one pip launcher: what pip's command line names, for a wrapper to expose (pip-process.ts). */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuredPaths, pipPaths, pipWrapEvent } from '../../src/lib/transaction/pip-process.js';

describe('transaction: the pip launcher', () => {
  it('pip paths: `--report -` names no path; a project is writable, a wheel and a requirements file readable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blast-pp-'));
    try {
      mkdirSync(join(dir, 'proj'));
      writeFileSync(join(dir, 'proj', 'pyproject.toml'), '');
      writeFileSync(join(dir, 'a-1.0-py3-none-any.whl'), '');
      writeFileSync(join(dir, 'req.txt'), '-e ./proj\n./a-1.0-py3-none-any.whl\nrequests==1\n');
      const paths = pipPaths(['install', '--dry-run', '--report', '-', '-r', 'req.txt', 'requests'], dir);
      expect(paths.writable).to.deep.equal([join(dir, 'proj')]);
      expect(paths.readable.sort()).to.deep.equal(
        [join(dir, 'a-1.0-py3-none-any.whl'), join(dir, 'req.txt')].sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pip configuration: PIP_CONSTRAINT, a file:// PIP_FIND_LINKS and a pip.conf value are read, PIP_TARGET written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blast pp '));
    try {
      mkdirSync(join(dir, 'links'));
      mkdirSync(join(dir, 'conf links'));
      writeFileSync(join(dir, 'constraints.txt'), '');
      writeFileSync(join(dir, 'pip.conf'), `[global]\nfind-links = ${join(dir, 'links')}\n`);
      const paths = configuredPaths(
        {
          PIP_CONSTRAINT: join(dir, 'constraints.txt'),
          PIP_FIND_LINKS: `file://${encodeURI(join(dir, 'conf links'))}`,
          PIP_TARGET: join(dir, 'target'),
          PIP_NO_INDEX: '1',
        },
        [join(dir, 'pip.conf')],
      );
      expect(paths.readable.sort()).to.deep.equal(
        [join(dir, 'constraints.txt'), join(dir, 'conf links'), join(dir, 'links')].sort(),
      );
      expect(paths.writable).to.deep.equal([dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the wrap event: purpose install, the environment and pip cache writable, pip run by the env python', () => {
    const event = pipWrapEvent({
      info: {
        name: 'x',
        path: '/envs/x',
        kind: 'named',
        python: { executable: '/envs/x/bin/python', version: '3.11', implementation: 'cpython' },
        settings: {},
      },
      args: ['install', 'requests'],
      env: { HOME: '/home/u', PIP_CACHE_DIR: '/c/pip' },
      cwd: '/',
    });
    expect(event.purpose).to.equal('install');
    expect(event.writable).to.deep.equal(['/envs/x', '/c/pip']);
    expect(event.pipCache).to.equal('/c/pip');
    expect([event.command, ...event.args]).to.deep.equal([
      '/envs/x/bin/python',
      '-m',
      'pip',
      'install',
      'requests',
    ]);
  });
});
