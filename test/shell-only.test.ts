/**
 * Shell-only variables survive an activation (ShellChange's keep/putBack): `FOO=bar` without
 * `export` (fish: `set -g`) is invisible to the CLI, yet `blast start --env FOO=x` exports FOO
 * over it. After a switch to an environment that does not set FOO, and after `kill`, FOO must be
 * the shell's own unexported value again — and an empty one empty, a never-set one unset, with
 * nothing of Blast's left behind. Real CLI, real bash, zsh and fish, through `blast init`.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, sandbox, throughFunction, type Sandbox } from './support/cli.js';

interface Dialect {
  name: string;
  argv: string[];
  prelude: string;
  /** Shell-only FOO (with a quote and a space) and EMPTYSH (empty); NEVER stays unset. */
  define: string;
  /** One line: NAME=shell:<value or -> env:<value or -> for each name. */
  dump: string;
  /** Names of Blast's kept copies still in the shell, one per line. */
  leftovers: string;
}

const NAMES = ['FOO', 'EMPTYSH', 'NEVER'];
const posixDump = NAMES.map(
  (n) => `printf '%s=shell:%s env:%s\\n' ${n} "\${${n}-<unset>}" "$(printenv ${n} || echo '<not exported>')"`,
).join('; ');

const DIALECTS: Dialect[] = [
  {
    name: 'bash',
    argv: ['bash', '--norc', '--noprofile'],
    prelude: `set -u; eval "$('${BIN}' init bash)"`,
    define: `FOO="it's bar"; EMPTYSH=`,
    dump: posixDump,
    leftovers: 'compgen -v _BLAST_KEPT_ || true',
  },
  {
    name: 'zsh',
    argv: ['zsh', '-f'],
    // WARN_CREATE_GLOBAL: keeping a value must not create globals the way zsh warns about.
    prelude: `setopt nounset warn_create_global; eval "$('${BIN}' init zsh)"`,
    define: `FOO="it's bar"; EMPTYSH=`,
    dump: posixDump,
    leftovers: 'print -rl -- ${(k)parameters[(I)_BLAST_KEPT_*]}',
  },
  {
    name: 'fish',
    argv: ['fish', '--no-config'],
    prelude: `'${BIN}' init fish | source`,
    define: `set -g FOO "it's bar"; set -g EMPTYSH ''`,
    dump: NAMES.map(
      (n) =>
        `printf '%s=shell:%s env:%s\\n' ${n} (set -q ${n}; and echo $${n}; or echo '<unset>') (printenv ${n}; or echo '<not exported>')`,
    ).join('; '),
    leftovers: 'set -n | string match "_BLAST_KEPT_*"; true',
  },
];

describe('shell-only variables through start, switch and kill', function () {
  this.timeout(120_000);
  let box: Sandbox;

  before(() => {
    box = sandbox();
    for (const name of ['demo', 'other']) {
      const made = throughFunction(box, ['start', name]);
      expect(made.status, made.stderr).to.equal(0);
    }
  });
  after(() => box.cleanup());

  for (const d of DIALECTS) {
    it(`${d.name}: an unexported value is exported over while active, then given back unexported`, () => {
      const script = [
        d.prelude,
        d.define,
        'blast start demo -e FOO=x -e EMPTYSH=y -e NEVER=z 2>/dev/null',
        'echo "# demo"',
        d.dump,
        'blast start other -e EMPTYSH=w 2>/dev/null',
        'echo "# other"',
        d.dump,
        'blast kill 2>/dev/null',
        'echo "# killed"',
        d.dump,
        'echo "# left"',
        d.leftovers,
      ].join('\n');
      const file = join(box.root, `shell-only.${d.name}`);
      writeFileSync(file, script);
      const run = spawnSync(d.argv[0]!, [...d.argv.slice(1), file], {
        env: box.env,
        cwd: box.home,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stderr, 'no warnings').to.equal('');
      expect(run.stdout.trimEnd().split('\n')).to.deep.equal([
        '# demo',
        'FOO=shell:x env:x',
        'EMPTYSH=shell:y env:y',
        'NEVER=shell:z env:z',
        '# other',
        // `other` does not set FOO: the shell's own value is back, unexported.
        "FOO=shell:it's bar env:<not exported>",
        'EMPTYSH=shell:w env:w',
        'NEVER=shell:<unset> env:<not exported>',
        '# killed',
        "FOO=shell:it's bar env:<not exported>",
        'EMPTYSH=shell: env:<not exported>',
        'NEVER=shell:<unset> env:<not exported>',
        '# left',
      ]);
    });
  }
});
