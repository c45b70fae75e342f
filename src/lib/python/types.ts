/** What the probe reports about one interpreter (see probe.ts). */
export interface ProbeFacts {
  /** [major, minor, micro, releaselevel, serial] as sys.version_info. */
  versionInfo: [number, number, number, string, number];
  implementation: string;
  cacheTag: string | null;
  /** realpath(sys.executable). */
  executable: string | null;
  prefix: string;
  basePrefix: string;
  /** The probed path runs inside a venv (a `--copies` venv's python, or a wrapper into one). */
  isVenv: boolean;
  /** For a venv's python: the base interpreter it was made from. */
  baseExecutable: string | null;
  is64bit: boolean;
  platform: string;
  osName: string;
  /** importlib.util.MAGIC_NUMBER in hex: .pyc files are only valid for the same magic. */
  magic: string | null;
  /** sysconfig has the 'venv' scheme (3.11+): venv uses it for its layout. */
  venvScheme: boolean;
  /** Paths relative to a venv root, from sysconfig. */
  purelib: string | null;
  include: string | null;
  scripts: string | null;
  /** The stdlib's venv/scripts directory (activation script templates), if present. */
  venvScripts: string | null;
  /** Templates under venvScripts, relative to it (`common/activate`, `posix/activate.fish`...). */
  venvTemplates: string[];
  /** The pip wheel ensurepip would install, if the interpreter ships one. */
  pipWheel: string | null;
  pipWheelRequiresPython: string | null;
}

/** A discovered interpreter, as the rest of Blast sees it. */
export interface Interpreter {
  /**
   * The path Blast runs and links venvs to: the path it was found under (pyenv shims resolved),
   * like `python -m venv` links to the interpreter it was invoked as.
   */
  executable: string;
  /** realpath of `executable`: the key facts are cached under. */
  realpath: string;
  /** Every path it was found under, in discovery order (PATH first). */
  paths: string[];
  /** `3.12.1`, `3.13.0rc1`. */
  version: string;
  /** [major, minor, micro]. */
  versionInfo: [number, number, number];
  /** `cpython`, `pypy`, ... */
  implementation: string;
  /** Where it came from: `path` (PATH, shims resolved), `pyenv`, `uv`, or `explicit` (a --python path). */
  source: 'path' | 'pyenv' | 'uv' | 'explicit';
  /** What `python3` on PATH resolves to (pyenv shims resolved). */
  isDefault: boolean;
  /** It can run a PEP 405 venv; otherwise `reason` says why not. */
  supported: boolean;
  reason?: string;
  facts: ProbeFacts;
}

export interface DiscoveryOptions {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}
