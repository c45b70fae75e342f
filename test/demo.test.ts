/**
 * `npm run demo` (scripts/demo.js) ends by saying how to have `blast` in one's own shell, true to
 * what is on PATH.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { REPO, sandbox, type Sandbox } from './support/cli.js';

const withoutBlast = (path: string) =>
  path
    .split(delimiter)
    .filter((dir) => dir && !existsSync(join(dir, 'blast')))
    .join(delimiter);

describe('npm run demo', function () {
  this.timeout(180_000);
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('after the demo shell, says how to get blast: init --install by its path, or npm link', () => {
    // The demo's subshell reads its commands from stdin: none, so it exits at once.
    const run = spawnSync(process.execPath, [join(REPO, 'scripts', 'demo.js')], {
      cwd: REPO,
      // PATH as the user's, without any `blast` on it.
      env: { ...box.env, SHELL: '/bin/bash', PATH: withoutBlast(box.env.PATH ?? '') },
      input: '',
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.include('`blast` is not on your PATH. Either:\n  ./bin/run.js init --install\n');
    expect(run.stderr).to.include(`  npm link   (in ${REPO.includes(' ') ? `'${REPO}'` : REPO})\n`);
    expect(run.stderr).to.include('then `blast init --install`');
  });
});
