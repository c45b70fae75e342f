/**
 * The resolver's pure parts: PEP 508 requirements and markers, the impact of a pip report on an
 * installed set, what a pip command line allows to analyse, the settings' checks, PIP_CONSTRAINT.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipCommandLine } from 'blast/hooks';
import { notAnalysed, uninstallNames } from '../src/resolver/analyse.js';
import { decide } from '../src/resolver/decide.js';
import { constraintsUrl, pipConstraintValue } from '../src/resolver/constraints.js';
import {
  brokenRequirements,
  installImpact,
  isMajorJump,
  parseReport,
  uninstallImpact,
  type PipReport,
} from '../src/resolver/impact.js';
import type { Distribution } from '../src/resolver/installed.js';
import { parseMetadata } from '../src/resolver/installed.js';
import { evaluateMarker } from '../src/resolver/markers.js';
import { markerEnvironment } from '../src/resolver/marker-environment.js';
import { parseConstraint, policyOf } from '../src/resolver/policy.js';
import { parseRequirement } from '../src/resolver/requirement.js';

const ENV = {
  implementation_name: 'cpython',
  implementation_version: '3.12.1',
  os_name: 'posix',
  platform_machine: 'x86_64',
  platform_release: '6.1.0',
  platform_system: 'Linux',
  platform_version: '#1 SMP',
  python_full_version: '3.12.1',
  platform_python_implementation: 'CPython',
  python_version: '3.12',
  sys_platform: 'linux',
};

function dist(name: string, version: string, ...requires: string[]): [string, Distribution] {
  const key = name.toLowerCase();
  return [key, { name, key, version, requires }];
}

describe('resolver-pip: requirements and markers', () => {
  it('reads PEP 508 requirements, legacy parentheses and URLs included', () => {
    expect(
      parseRequirement('Django_Rest.framework[a, B] >= 3.0 , <4 ; python_version >= "3.8"'),
    ).to.deep.equal({
      name: 'Django_Rest.framework',
      key: 'django-rest-framework',
      extras: ['a', 'b'],
      specifier: '>=3.0,<4',
      marker: 'python_version >= "3.8"',
    });
    expect(parseRequirement('foo (>=1.0)')).to.include({ key: 'foo', specifier: '>=1.0' });
    expect(parseRequirement('foo==1.*')).to.include({ specifier: '==1.*' });
    expect(parseRequirement('bar @ https://example.org/bar-1.0.whl ; os_name == "nt"')).to.include({
      url: 'https://example.org/bar-1.0.whl',
      marker: 'os_name == "nt"',
    });
    for (const bad of ['', '-r other.txt', '--index-url=x', 'foo >=', 'foo bar', 'foo;'])
      expect(() => parseRequirement(bad), bad).to.throw();
  });

  it('evaluates markers against an environment, PEP 440 where the value is a version', () => {
    expect(evaluateMarker('python_version >= "3.8"', ENV)).to.equal(true);
    expect(evaluateMarker('python_version < "3.10"', ENV)).to.equal(false); // 3.12 > 3.10 as versions, not strings
    expect(
      evaluateMarker("sys_platform == 'win32' or (os_name == 'posix' and platform_machine != 'arm64')", ENV),
    ).to.equal(true);
    expect(evaluateMarker('"linux" in sys_platform and python_full_version not in "3.11.0"', ENV)).to.equal(
      true,
    );
    expect(evaluateMarker('extra == "Test_X"', { ...ENV, extra: 'test-x' })).to.equal(true);
    expect(evaluateMarker('python_implementation == "CPython"', ENV)).to.equal(true);
    expect(() => evaluateMarker('python_version >= ', ENV)).to.throw();
    expect(() => evaluateMarker('favourite_colour == "red"', ENV)).to.throw(/unknown marker variable/);
    expect(() => evaluateMarker('sys_platform < "z"', ENV)).to.throw(/undefined/);
  });

  it('reads METADATA headers up to the body, folded lines joined', () => {
    const h = parseMetadata(
      'Metadata-Version: 2.1\nName: a\nRequires-Dist: b>=1\nRequires-Dist: c;\n extra == "x"\n\nRequires-Dist: body\n',
    );
    expect(h.get('requires-dist')).to.deep.equal(['b>=1', 'c; extra == "x"']);
  });
});

describe('resolver-pip: impact', () => {
  const installed = new Map([
    dist('alpha', '1.0'),
    dist('beta', '2.0'),
    dist('gamma', '1.0', 'alpha<2', 'win-only; sys_platform == "win32"', 'extra-only; extra == "x"'),
    dist('old', '0.3'),
  ]);
  const report: PipReport = {
    version: '1',
    environment: ENV,
    install: [
      { metadata: { name: 'Alpha', version: '2.0', requires_dist: ['beta<2'] } },
      { metadata: { name: 'beta', version: '1.0' } },
      { metadata: { name: 'new', version: '1.0' } },
      { metadata: { name: 'old', version: '0.4' } },
    ],
  };

  it('sorts pip’s plan into added, upgraded, downgraded, with major jumps and new broken requirements', () => {
    const impact = installImpact(installed, report);
    expect(impact.added).to.deep.equal([{ name: 'new', version: '1.0' }]);
    expect(impact.upgraded).to.deep.equal([
      { name: 'Alpha', from: '1.0', to: '2.0', major: true },
      { name: 'old', from: '0.3', to: '0.4', major: true },
    ]);
    expect(impact.downgraded).to.deep.equal([{ name: 'beta', from: '2.0', to: '1.0', major: true }]);
    // Only gamma's unconditional requirement counts: the win32 and extra ones do not apply here.
    expect(impact.conflicts).to.deep.equal([{ dist: 'gamma 1.0', requirement: 'alpha<2', found: '2.0' }]);
    expect(impact.alreadyBroken).to.deep.equal([]);
  });

  it('keeps requirements broken before the change apart from those it breaks', () => {
    const broken = new Map([...installed, dist('delta', '1.0', 'missing-thing')]);
    const impact = installImpact(broken, { ...report, install: [] });
    expect(impact.conflicts).to.deep.equal([]);
    expect(impact.alreadyBroken).to.deep.equal([
      { dist: 'delta 1.0', requirement: 'missing-thing', found: null },
    ]);
  });

  it('an uninstall removes what is installed and breaks what required it', () => {
    const impact = uninstallImpact(installed, ['ALPHA', 'not-installed'], ENV);
    expect(impact.removed).to.deep.equal([{ name: 'alpha', version: '1.0' }]);
    expect(impact.conflicts).to.deep.equal([{ dist: 'gamma 1.0', requirement: 'alpha<2', found: null }]);
  });

  it('says what it could not evaluate instead of guessing', () => {
    const odd = new Map([dist('x', '1.0', 'y; weird_marker == "1"')]);
    const unevaluated: string[] = [];
    expect(brokenRequirements(odd, ENV, unevaluated)).to.deep.equal([]);
    expect(unevaluated[0]).to.match(/^x 1\.0: unknown marker variable "weird_marker"/);
  });

  it('major jumps: epoch, first number, 0.x second number', () => {
    expect(isMajorJump('1.4', '1.5')).to.equal(false);
    expect(isMajorJump('1.9', '2.0rc1')).to.equal(true);
    expect(isMajorJump('0.3.1', '0.3.2')).to.equal(false);
    expect(isMajorJump('0.3', '0.4')).to.equal(true);
    expect(isMajorJump('1.0', '1!1.0')).to.equal(true);
  });

  it("reads pip's report even after log lines", () => {
    const json = JSON.stringify({ version: '1', install: [], environment: ENV }, null, 2);
    expect(parseReport(`Collecting x\n  Using cached x\n${json}\n`).install).to.deep.equal([]);
    expect(() => parseReport('ERROR: nothing')).to.throw();
  });
});

describe('resolver-pip: command lines, settings, decisions', () => {
  it("reads pip's options from the core's parsed command line: what installs elsewhere is not analysed", () => {
    const line = (command: string, options: Record<string, string[]> = {}): PipCommandLine => ({
      command,
      requirements: ['alpha'],
      options,
      verbosity: 0,
    });
    expect(notAnalysed(line('install', { verbose: [''] }))).to.equal(undefined);
    expect(notAnalysed(line('install', { target: ['x'] }))).to.match(/--target/);
    expect(notAnalysed(line('install', { prefix: ['/opt'] }))).to.match(/--prefix/);
    expect(notAnalysed(line('install', { 'dry-run': [''] }))).to.match(/dry run/);
    expect(notAnalysed(line('download'))).to.match(/not an install/);
    expect(notAnalysed(line('install', { requirement: [tmpdir()] }))).to.equal(undefined); // a value, not a project
  });

  it('finds what an uninstall removes, from arguments and -r files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'resolver-unit-'));
    try {
      const file = join(dir, 'reqs.txt');
      writeFileSync(
        file,
        '# comment\nbeta>=1 ; python_version > "3"\n-i https://example.org\n\ngamma  # old\n',
      );
      expect(
        uninstallNames({
          command: 'uninstall',
          requirements: ['Alpha==1.0'],
          options: { yes: [''], requirement: [file] },
          verbosity: 0,
        }),
      ).to.have.members(['Alpha', 'beta', 'gamma']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('constraints are one named requirement, without extras or anything pip reads as an option', () => {
    expect(parseConstraint('  django<5 ')).to.equal('django<5');
    expect(parseConstraint('numpy>=1.26,<2 ; python_version >= "3.9"')).to.equal(
      'numpy>=1.26,<2 ; python_version >= "3.9"',
    );
    for (const bad of [
      '',
      'a\nb',
      '-r /etc/passwd',
      '--index-url=http://evil',
      'requests[socks]<3',
      '<5',
      'django<5 # note',
    ])
      expect(() => parseConstraint(bad), JSON.stringify(bad)).to.throw();
    expect(policyOf({ constraint: ['a<2'], downgrades: 'forbid' })).to.deep.equal({
      constraints: ['a<2'],
      downgrades: 'forbid',
      consistency: 'warn',
    });
    expect(policyOf({})).to.deep.include({ downgrades: 'confirm', consistency: 'warn' });
  });

  it("PIP_CONSTRAINT holds a file: URL (pip splits the variable on spaces) after the user's own files", () => {
    const env = '/tmp/a b/env';
    expect(constraintsUrl(env)).to.equal('file:///tmp/a%20b/env/blast-constraints.txt');
    const other = 'file:///tmp/other/blast-constraints.txt';
    expect(pipConstraintValue(env, `/home/me/c.txt ${constraintsUrl(env)} ${other}`)).to.equal(
      `/home/me/c.txt ${constraintsUrl(env)}`,
    );
    expect(pipConstraintValue(env, undefined)).to.equal(constraintsUrl(env));
  });

  it('decides by policy: forbid refuses a downgrade, confirm asks only on a terminal, allow never asks', () => {
    const impact = installImpact(new Map([dist('beta', '2.0')]), {
      version: '1',
      environment: ENV,
      install: [{ metadata: { name: 'beta', version: '1.0' } }],
    });
    const policy = policyOf({});
    expect(decide(impact, 'install', { ...policy, downgrades: 'forbid' }, true).refuse).to.match(
      /forbids downgrades/,
    );
    expect(decide(impact, 'install', policy, true).ask).to.match(/1 downgrade\(s\), 1 major version jump/);
    expect(decide(impact, 'install', policy, false))
      .to.have.property('note')
      .that.matches(/without asking/);
    expect(decide(impact, 'install', { ...policy, downgrades: 'allow' }, true).ask).to.equal(undefined);
    expect(decide(impact, 'uninstall', policy, true)).to.deep.equal({}); // pip asks itself
  });
});

describe('resolver-pip: the marker environment, asked once per interpreter', function () {
  this.timeout(60_000);
  let root: string;
  let envPath: string;
  let cacheDir: string;
  const cacheFile = () => join(cacheDir, 'resolver-pip', 'markers.json');
  /** Every entry of the cache file rewritten, so an answer from it cannot be the interpreter's. */
  const forge = (field: string, value: string) => {
    const cache = JSON.parse(readFileSync(cacheFile(), 'utf8')) as Record<string, Record<string, string>>;
    for (const key of Object.keys(cache)) cache[key]![field] = value;
    writeFileSync(cacheFile(), JSON.stringify(cache));
  };

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'blast markers '));
    envPath = join(root, 'env');
    cacheDir = join(root, 'cache');
    // --copies: the environment's own interpreter binary, which the test may touch.
    const made = spawnSync('python3', ['-m', 'venv', '--copies', '--without-pip', envPath], {
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).to.equal(0);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('asks the interpreter, keeps its answer, and answers from it next time', async () => {
    const asked = await markerEnvironment(envPath, cacheDir);
    expect(asked.sys_platform).to.equal(process.platform);
    expect(existsSync(cacheFile())).to.equal(true);
    forge('platform_release', 'from the cache');
    expect((await markerEnvironment(envPath, cacheDir)).platform_release).to.equal('from the cache');
    // Without a cache dir the interpreter is always asked.
    expect((await markerEnvironment(envPath)).platform_release).to.equal(asked.platform_release);
  });

  it('asks again when the interpreter binary changed, or the entry is incomplete or unreadable', async () => {
    await markerEnvironment(envPath, cacheDir);
    forge('platform_release', 'stale');
    const python = join(envPath, 'bin', 'python'); // what the plugin runs
    const later = new Date(statSync(python).mtimeMs + 5000);
    utimesSync(python, later, later);
    expect((await markerEnvironment(envPath, cacheDir)).platform_release).not.to.equal('stale');

    forge('sys_platform', 42 as unknown as string);
    expect((await markerEnvironment(envPath, cacheDir)).sys_platform).to.equal(process.platform);

    writeFileSync(cacheFile(), '{"half');
    expect((await markerEnvironment(envPath, cacheDir)).sys_platform).to.equal(process.platform);
    expect(() => JSON.parse(readFileSync(cacheFile(), 'utf8'))).not.to.throw();
  });
});
