/**
 * Blast's public plugin contract, exported as `blast/contract` (and as `blast/hooks`, its name
 * before oclif's own hook handlers, src/hooks/, and this module stopped sharing a word).
 *
 * This is the only module a plugin may import from the core, and it should do so with
 * `import type` only: everything here is a type, so a plugin never depends on the core's
 * module layout at run time. Plugins are oclif plugins whose package.json declares
 *
 *   "oclif": { "hooks": { "shells": "./dist/hooks/shells.js" }, "blast": { "apiVersion": "^1.0.0" } }
 *
 * `apiVersion` is a semver range the core's API_VERSION must satisfy, else the plugin is
 * skipped with a warning. The core runs one event at a time (oclif runs all handlers of an
 * event in parallel, in no order) and reads every failure: a handler that throws in a veto
 * event (preStart, preKill, preInstall) stops the command with the handler's message and the exit code
 * of the error (`error.oclif.exit`, then `error.exitCode`, else 1) — no stack trace.
 */

/**
 * Facts about this Blast that every event payload carries as `ctx` (API 1.5), so a plugin never
 * recomputes a core path or hard-codes how Blast is run: when the core's rules change, plugins
 * follow without a release.
 */
export interface BlastContext {
  /** The core's plugin API version (`oclif.blast.apiVersion` of its package.json), e.g. `1.5.0`. */
  apiVersion: string;
  /** BLAST_HOME: named environments, the registry, the store. */
  home: string;
  /** Blast's state directory (under `home`). */
  stateDir: string;
  /**
   * The state directory that belongs to one environment (absolute path of the environment):
   * where a plugin keeps its per-environment files. Same path for the same environment in every
   * process. Not created: create it (0700) when you write into it.
   */
  envStateDir(envPath: string): string;
  /** Per-boot things (sockets, pid files): XDG_RUNTIME_DIR/blast or a per-user temp dir. Not created. */
  runtimeDir: string;
  /** Regenerable data; a plugin keeps its caches in a subdirectory named after itself. */
  cacheDir: string;
  /**
   * The command line that runs this Blast (`[node, …/bin/run.js]`): a plugin that starts Blast
   * runs exactly this, plus its arguments. The one such use the contract supports (API 1.5) is
   * recording a revision: `[...cli, 'record', '--path', envPath, '--source', 'watch' | 'outside',
   * '--json']` (see `RecordResult`, and docs/plugins.md for the exit codes).
   */
  cli: readonly string[];
  /** The variables the command runs with (the user's shell's, through the function). */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * What `blast record --path P --json` prints (API 1.5): the supported way for a plugin that saw the
 * installed distributions change outside a pip transaction (a watcher) to have the core record a
 * revision. Run as `ctx.cli` plus `record --path P [--source watch|outside|record] [--detail T]
 * --json`, in its own process with `ctx.env`. Exit 0: afterwards the newest revision is the
 * environment's state — `recorded` when this run recorded one, `busy` when a pip transaction or a
 * load runs there (they record their own; nothing is recorded or waited for), neither when nothing
 * changed or the environment is gone. Exit 2: bad arguments; 3: no environment at P; 1: anything
 * else (a full disk, a damaged store), said in `error`. Safe to run any number of times and to kill.
 */
export interface RecordResult {
  /** The environment (absolute path). */
  env: string;
  recorded?: {
    n: number;
    createdAt: string;
    source: string;
    distributions: string[];
    change: { added: string[]; removed: string[]; upgraded: string[] };
  };
  busy?: string;
}

/** An event's payload as a handler receives it: the event's own fields and `ctx` (API 1.5). */
export type WithContext<T> = T & { ctx: BlastContext };

/** An environment as the core knows it. */
export interface EnvInfo {
  /** Display name: the named environment, or the project's name for a project-local one. */
  name: string;
  /** Absolute path of the venv directory (what VIRTUAL_ENV is set to). */
  path: string;
  /** `named` lives under BLAST_HOME/envs, `local` was created with --path. */
  kind: 'named' | 'local';
  python: { executable: string; version: string; implementation: string };
  /**
   * The environment's settings (API 1.2): values of the SettingSpecs plugins declare, as given to
   * `blast start --<name>` or `blast config`, stored in the environment's blast.json. Only the
   * settings that were given are present.
   */
  settings: Settings;
}

/**
 * A change to a shell's state: the complete, already-decided difference to apply. The core
 * computes it (including the full new PATH and the state `kill` needs); an adapter renders it
 * in its own syntax, quoting every name and value by its shell's rules, in this order:
 * unset (or put back), keep, set, prompt, forget cached command paths.
 */
export interface ShellChange {
  /** Variables to export with exactly these values, in this order. */
  set: ReadonlyArray<readonly [name: string, value: string]>;
  /** Variables to remove from the environment (unset, not emptied). */
  unset: readonly string[];
  /**
   * Shell-only values (API 1.3). The core sees only exported variables, but bash, zsh and fish
   * keep unexported ones under the same names (`FOO=bar` without `export`, fish's `set -g`).
   * `keep`: names in `set` that are unset in the exported environment; before setting one, keep
   * the shell's own value of it aside, in the shell, if it has one (once: a value already kept
   * stays). `putBack`: names in `unset` that go back to being unset in the exported environment;
   * if a value was kept for one, give it back as a shell-only variable (and forget the copy)
   * instead of unsetting it. Absent means empty. Shells whose environment variables live apart
   * from their own variables (PowerShell's `$env:`, for one) ignore both.
   */
  keep?: readonly string[];
  putBack?: readonly string[];
  /**
   * `tag`: keep the shell's prompt as it is now aside (once: a second `tag` while one is shown
   * replaces the tag, never the saved prompt, and an unset prompt stays remembered as unset),
   * then show `tag` before it — unless VIRTUAL_ENV_DISABLE_PROMPT is non-empty in the shell, which
   * the adapter checks in the shell itself because the core cannot see unexported variables.
   * `restore`: put the saved prompt back exactly (if one was saved) and forget it.
   * `keep`: leave the prompt alone.
   */
  prompt: { action: 'tag'; tag: string } | { action: 'restore' } | { action: 'keep' };
  /**
   * Shell commands that stand for Blast while an environment is active (API 1.5; absent means
   * none), rendered after the prompt: venv's habits, `deactivate` and `pydoc`.
   * `define`: keep the shell's own function and alias `name` aside, if it has one (once: while one
   * is kept, a second `define` only redefines), then define `name` as a function that runs `run`
   * (its first word looked up when called: `blast` is the shell function) with the function's
   * arguments appended. `restore`: remove the function `define` made and give back what was kept
   * (nothing, if the shell had none); a name that was never defined is left alone.
   */
  commands?: {
    define?: ReadonlyArray<{ name: string; run: readonly string[] }>;
    restore?: readonly string[];
  };
}

/** What `blast init <shell>` and the subshell need to call the CLI. */
export interface InitContext {
  /** Absolute path of the executable that runs Blast (quote it: it may contain anything). */
  bin: string;
  /** The environment variable the shell function sets to the file Blast writes shell code to. */
  scriptVariable: 'BLAST_SHELL_SCRIPT';
  /** The environment variable the shell function sets to its adapter's name. */
  shellVariable: 'BLAST_SHELL';
  /**
   * The environment variable the shell function sets to its shell's own pid (API 1.4: `$$` or
   * `$BASHPID`, `$fish_pid`, `$PID`), the process the activation belongs to. Without it the CLI
   * refuses to activate: the CLI's parent pid is not the shell once the shell died mid-run.
   */
  pidVariable: 'BLAST_SHELL_PID';
  /**
   * The command line for shells that complete from a model of their own (API 1.1). Adapters
   * whose shell @oclif/plugin-autocomplete covers may ignore it.
   */
  completion?: CompletionModel;
  /**
   * Present when the code goes into Blast's generated init file (API 1.5): the function passes
   * `value` in the variable `variable` to every CLI call (like the three above), so that the CLI
   * can tell the file is out of date, write it again and have the shell source it. Absent for
   * code that is eval'ed (`blast init bash` printed) or for the subshell.
   */
  stamp?: { variable: 'BLAST_SHELL_INIT'; value: string };
  /**
   * A file of this shell's completion code for `blast`, kept by @oclif/plugin-autocomplete (API
   * 1.5): the generated init file loads it when it exists, without starting any process.
   */
  completionScript?: string;
  /**
   * The directory of Blast's generated init file, when the code goes there (API 1.5): files the
   * adapter's `initFile.companions` returns are written in it, so the code may refer to them.
   */
  initDir?: string;
}

/**
 * The prompt hook of `blast init SHELL --auto` (API 1.5). The core's rules, for the adapter to
 * render as pure shell: before each prompt, return at once when $PWD is what it was at the last
 * prompt; otherwise find the project — the nearest directory from $PWD up that holds one of
 * `markers` (relative paths, tested as regular files with the shell's builtins), looking neither
 * at $HOME nor at `/` nor above them — and only when that directory differs from the one found
 * at the last change (the empty string when none), run the function `blast` with `command` and
 * the directory (or '') appended. Keep the user's own prompt hooks and their order, keep `$?`
 * for them, and add the hook once however often the code is sourced.
 */
export interface AutoHookSpec {
  markers: readonly string[];
  command: readonly string[];
}

/** Every visible command with its flags and arguments, from the oclif manifest (API 1.1). */
export interface CompletionModel {
  commands: CompletionCommand[];
  /** Arguments after `bin` that print one environment name per line (for `start`, `clean`, …). */
  listEnvironments: string[];
  /** Command ids whose first argument is an environment name. */
  envArgumentCommands: string[];
  /**
   * Arguments after `bin` that print the active environment's snapshot names, one per line, and
   * the command ids whose first argument is a snapshot's name (API 1.3; absent before).
   */
  listSnapshots?: string[];
  snapshotArgumentCommands?: string[];
}

export interface CompletionCommand {
  /** Space-separated, as typed: `plugins link`. */
  id: string;
  summary: string;
  flags: Array<{
    name: string;
    char?: string;
    summary: string;
    takesValue: boolean;
    options?: string[];
    /**
     * The value names an environment (API 1.3): complete it with `listEnvironments`. A command
     * marks such a flag with `helpValue: 'ENV'` (`--env ENV` in its help).
     */
    environments?: boolean;
  }>;
}

/** Everything an adapter needs to describe an activated interactive subshell. */
export interface SubshellContext extends InitContext {
  /**
   * Code in this shell's syntax that activates the environment: a call of the `blast` function
   * (`blast 'start' 'demo'`, arguments quoted with this adapter's `quote`). Run it at the top level
   * after the user's rc files and the function's definition: the activation is then computed from
   * the subshell's own variables, so PATH entries the rc files add stay (below the environment).
   */
  activation: string;
  /** A private, empty, user-only directory the adapter may put files in; removed afterwards. */
  dir: string;
  /** The user's home directory and the process environment the subshell inherits. */
  home: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** How to start the subshell: the core writes `files`, then runs `command` with `args`. */
export interface SubshellSpec {
  command: string;
  args: string[];
  /** Variables to add to (string) or remove from (null) the subshell's environment. */
  env?: Record<string, string | null>;
  /** Absolute path → content; paths must be inside `SubshellContext.dir`. */
  files?: Record<string, string>;
}

/**
 * A shell. The protocol between the CLI and the shell function: the function sets
 * BLAST_SHELL=<name>, BLAST_SHELL_SCRIPT=<a fresh private file> and BLAST_SHELL_PID=<the shell's own
 * pid> (API 1.4) in the CLI's environment,
 * runs the CLI with the user's arguments and the terminal untouched, then sources the file if
 * the CLI wrote to it, removes it, and returns the CLI's exit status.
 */
export interface ShellAdapter {
  /** The name users type (`blast init bash`). */
  name: string;
  /** Other names that select this adapter (`sh` …), also matched against the parent process. */
  aliases?: readonly string[];
  /** The user's rc file this shell reads at interactive start, relative to home. */
  rcFile: string;
  /**
   * The line `blast init --install` puts in rcFile to load the function at every start, e.g.
   * `eval "$(blast init bash)"` (API 1.1). `bin` is how the user runs Blast.
   */
  rcLine?(bin: string): string;
  /** How rcFile is written (API 1.1): PowerShell profiles want a BOM. Default `utf8`. */
  rcEncoding?: 'utf8' | 'utf8-bom';
  /**
   * Blast's generated init file for this shell (API 1.5): `blast init --install` writes the code
   * into a file named `blast.<extension>` under Blast's data directory and puts `sourceLine(file)`
   * in rcFile, a line that loads the file when it exists and starts no process (so a new shell
   * pays nothing for Blast). Without it, rcFile gets `rcLine` (the eval of `blast init`).
   */
  initFile?: {
    extension: string;
    sourceLine(file: string): string;
    /**
     * Files to write beside the generated file, paths relative to `ctx.initDir`, rewritten with it:
     * code the shell loads only when needed (fish autoloads completions from a directory).
     */
    companions?(ctx: InitContext): Record<string, string>;
  };
  /** The prompt hook of `--auto` (API 1.5), appended to `init`'s code; without it, no --auto. */
  autoHook?(spec: AutoHookSpec): string;
  /** Source of the `blast` shell function (what `blast init <name>` prints). */
  init(ctx: InitContext): string;
  /** Render a change in this shell's syntax. Must be safe for any byte sequence in names' values. */
  render(change: ShellChange): string;
  /** Quote one value so this shell reads it back byte for byte. */
  quote(value: string): string;
  /** An interactive subshell that reads the user's rc files first and then the activation. */
  subshell(ctx: SubshellContext): SubshellSpec;
}

/** Variables and notes a plugin adds to an activation (the `activate` event). */
/**
 * A per-environment setting a plugin owns (the `settings` event, API 1.2): given as
 * `blast start --<name> VALUE`, changed later with `blast config NAME=VALUE`, stored with the
 * environment (blast.json), kept in snapshots, shown by `list` and `check`, and passed to every
 * event as `EnvInfo.settings`. The core parses and stores; what a setting means is the plugin's.
 */
export interface SettingSpec {
  /** Flag and key, kebab-case (`constraint`, `memory`, `no-network`); unique across plugins. */
  name: string;
  description: string;
  /** `boolean` settings are flags without a value (`--no-network`); `string` take one. */
  type: 'string' | 'boolean';
  /** A repeatable string setting, stored as a list (`--constraint A --constraint B`). */
  multiple?: boolean;
  /** The only values allowed, when the setting is a choice. */
  options?: readonly string[];
  /** For help, e.g. `SIZE` or `SPEC`. */
  helpValue?: string;
  /**
   * Check and normalise one value before it is stored; throw an Error with a clear message to
   * refuse it (the core reports it as a usage error and stores nothing).
   */
  parse?(value: string): string;
}

export type SettingValue = string | boolean | readonly string[];

/** Settings by name; absent when never given. */
export type Settings = Readonly<Record<string, SettingValue>>;

export interface ActivationContribution {
  /** Extra variables to export (the core records and restores them like its own). */
  set?: Record<string, string>;
  /** Entries to put first on PATH, after the environment's bin directory. */
  pathPrepend?: string[];
  /** Lines shown to the user after activation (stderr). */
  notes?: string[];
  /**
   * This activation cannot happen in the user's own shell (API 1.2), e.g. it must run inside a
   * sandbox: the core opens an activated subshell instead, through the \`wrap\` event, and says why
   * with this reason. Plugins recognise the subshell they asked for by their own variables.
   */
  subshell?: string;
}

export interface CheckResult {
  /** Short name of what was checked, e.g. `python runs`. */
  name: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  /** Which environment it is about, when it is about one. */
  env?: string;
  /** What `blast check --fix` would do; omitted when nothing can be done automatically. */
  fix?: string;
  /** Carries out `fix`; the core calls it under `--fix` and reports the result. */
  repair?: () => Promise<void>;
}

export interface CleanAction {
  /** What goes, e.g. a path or `registry entry foo`. */
  what: string;
  why: string;
  /** Bytes freed, when known. */
  bytes?: number;
  /** Does it; not called under `--dry-run`. */
  run: () => Promise<void>;
}

export interface StartEvent {
  env: EnvInfo;
  /** True when this start is creating the environment. */
  creating: boolean;
  /** The shell that will be activated. */
  shell: string;
  /**
   * The process whose lifetime is the activation's (API 1.1): the shell that runs the function
   * (in a subshell, the subshell itself). When it is gone, so is the activation.
   */
  shellPid: number;
}

export interface KillEvent {
  env: EnvInfo;
  /** `blast kill --force`. */
  force: boolean;
  /** As in StartEvent: the process the activation belonged to. */
  shellPid: number;
}

/** One plugin's facts about one environment for `blast list` (the `list` event, API 1.1). */
export interface EnvStatus {
  /** EnvInfo.path of the environment it is about. */
  path: string;
  /** Short facts, e.g. `{ daemon: 'running', memoryMiB: 44.9 }`: shown as key=value, and in --json. */
  fields: Record<string, string | number | boolean | null>;
}

/**
 * What brings a change of installed distributions (API 1.4). Every one goes through
 * `preInstall`/`postInstall`, so no policy (quota, downgrades) can be bypassed:
 * - `pip`: a pip command in the environment (the pip shim, `blast pip`);
 * - `lock`: `blast load --lock` — its pip part (pip's arguments in `args`) and its store part
 *   (re-links and removals, with `planned`);
 * - `load`: `blast load NAME`, a snapshot restored from the store;
 * - `revision`: `blast load --revision N`.
 */
export type InstallSource = 'pip' | 'lock' | 'load' | 'revision';

/** What a transaction is about to do (the `preInstall` event, API 1.1). */
export interface InstallEvent {
  env: EnvInfo;
  /**
   * pip's arguments, as the user gave them (`install`, `-U`, `requests`, …). Empty when no pip
   * runs (a restore from the store: `planned` says what changes).
   */
  args: string[];
  /**
   * What pip was asked to do: `install`, `uninstall`, or anything else that may change the env.
   * A restore from the store is `other` (so a handler written for API 1.3 or older, which only
   * knew pip, leaves it alone unless it acts on every change, as a disk quota does).
   */
  command: 'install' | 'uninstall' | 'other';
  /**
   * Whether the user may be asked (API 1.2): only when the question can be seen and answered —
   * stdin, stdout and stderr are all the same terminal — and the user has not already said yes
   * (\`--yes\`, consumed by Blast, or BLAST_YES=1). \`pip install x 2>&1 | tee log\` is not
   * interactive: a question on the terminal would be invisible, and the install would look hung.
   */
  interactive: boolean;
  /** Where the change comes from (API 1.4); absent from older cores, where it is always `pip`. */
  source?: InstallSource;
  /**
   * The change a restore from the store will make, computed before anything changes (API 1.4):
   * set when no pip runs (`load`, `revision`, a lock's store part), absent for pip, whose plan only
   * pip's resolver knows. As in `PostInstallEvent.changed`, `upgraded` lists every version
   * change, up or down (`name old -> new`): compare the versions to tell a downgrade.
   */
  planned?: InstallChange;
  /**
   * When \`interactive\` is false, why, in words for the user (API 1.3): "you passed --yes",
   * "pip's output goes to a pipe or a file, where a question would not be seen", …
   */
  notAsked?: string;
  /**
   * Runs this environment's pip the way Blast runs every pip (API 1.6): through the \`wrap\` event
   * (purpose \`install\`), so a plugin's own pip (a dry run, \`pip check\`) is sandboxed as the
   * install is. \`env\`: pip's variables (default: the command's). Output captured.
   */
  runPip?(
    args: readonly string[],
    env?: Readonly<Record<string, string | undefined>>,
  ): Promise<{ status: number; stdout: string; stderr: string }>;
  /**
   * pip's command line, parsed once by the core (API 1.5): set for a pip command (the pip shim,
   * `blast pip`); absent for a restore from the store and for `load --lock`'s pip part. A plugin reads pip's options and requirements here instead of
   * parsing pip's arguments itself.
   */
  pip?: PipCommandLine;
}

/**
 * A pip command line as the core parsed it (API 1.5): the subcommand, the requirements given as
 * arguments, and every option by its long name (`-r` is `requirement`, `-q` is `quiet`) with the
 * values given in order; a flag has one empty string per time it was given (`-qq`: two).
 */
export interface PipCommandLine {
  /** The subcommand (`install`, `uninstall`, …), if any. */
  command?: string;
  /** Requirement specifiers, paths and URLs given as arguments (not those in `-r` files). */
  requirements: string[];
  /** Long option name without dashes → its values in order. Unknown options are kept as flags. */
  options: Record<string, string[]>;
  /** pip's net verbosity: each `-v` counts one up, each `-q` one down (`-q` is -1). */
  verbosity: number;
}

/**
 * pip's installation report (format version 1, pip 22.2+; see
 * https://pip.pypa.io/en/stable/reference/installation-report/), the parts a plugin may rely on.
 */
export interface PipReport {
  version: string;
  pip_version?: string;
  install: Array<{
    metadata: { name: string; version: string; requires_dist?: string[]; [field: string]: unknown };
    /** Asked for by the user (an argument or a -r line), not only a dependency. */
    requested?: boolean;
    is_direct?: boolean;
    download_info?: { url: string; archive_info?: { hash?: string; hashes?: Record<string, string> } };
  }>;
  /** The marker environment of the environment's interpreter (PEP 508 variable → value). */
  environment: Record<string, string>;
}

/**
 * An install pip's resolver has planned, before anything is installed (the \`reviewInstall\`
 * event, API 1.5): pip resolved once, and waits for the verdict; it then installs exactly this plan.
 */
export interface ReviewEvent extends InstallEvent {
  report: PipReport;
}

/** What a \`preInstall\` handler adds to the pip run (API 1.2). */
export interface InstallContribution {
  /**
   * Variables for pip's environment, e.g. \`PIP_CONSTRAINT\`; a name two plugins set is an error.
   * Ignored when no pip runs (a restore from the store).
   */
  env?: Record<string, string>;
}

/** A process Blast is about to start inside an environment (the \`wrap\` event, API 1.2). */
export interface WrapEvent {
  env: EnvInfo;
  /**
   * \`run\`: \`blast run -- CMD\`; \`subshell\`: the activated subshell; \`install\` (API 1.6): a pip
   * Blast runs in the environment (a transaction's, \`load --lock\`'s, a plugin's dry run or
   * \`pip check\` through \`InstallEvent.pip\`): \`writable\` then says what pip writes.
   */
  purpose: 'run' | 'subshell' | 'install';
  command: string;
  args: string[];
  cwd: string;
  /** The variables the process will have (the activation applied). */
  environment: Readonly<Record<string, string>>;
  /**
   * Paths the process must be able to read wherever it runs, e.g. the private directory with the
   * subshell's rc files (under the system temp dir): a sandbox with its own /tmp must bind them.
   */
  readable: string[];
  /**
   * For \`install\` (API 1.6): what pip must be able to write — the environment being changed,
   * pip's cache, a local project named on the command line (a build writes into it: \`build/\`,
   * \`*.egg-info\`), a \`--target\` or \`--report\` destination. \`readable\` has the other paths
   * the command line names (wheels, sdists, requirement and constraint files, --find-links
   * folders), pip's configuration files and the base interpreter's installation.
   */
  writable?: string[];
  /** For \`install\` (API 1.6): pip's cache directory (also in \`writable\`), absent when off. */
  pipCache?: string;
}

/**
 * How to start it instead (API 1.2): a command line that runs the original one (e.g. under
 * bubblewrap or prlimit). At most one plugin may wrap a process; two is an error naming both.
 */
export interface ProcessWrapper {
  command: string;
  args: string[];
  /** Variables to add to the process's environment. */
  env?: Record<string, string>;
}

/** Distributions, as `name version`. */
export interface InstallChange {
  added: string[];
  removed: string[];
  /** `name old -> new`. */
  upgraded: string[];
}

/** What a transaction did (the `postInstall` event, API 1.1). */
export interface PostInstallEvent extends InstallEvent {
  /**
   * pip's exit status (0 for a restore from the store that completed). When it is not 0 the
   * environment is rolled back after this event.
   */
  exitCode: number;
  /** The change pip (or the restore) made (before any rollback). */
  changed: InstallChange;
  /**
   * pip's plan for this install, as \`reviewInstall\` saw it (API 1.5); absent when pip did not
   * resolve (an uninstall, an old pip, a restore from the store).
   */
  report?: PipReport;
}

export interface ListEvent {
  envs: EnvInfo[];
}

/** An environment about to be deleted: \`blast clean NAME\` (the \`preRemove\` event, API 1.4). */
export interface RemoveEvent {
  env: EnvInfo;
}

export interface CheckEvent {
  envs: EnvInfo[];
  /**
   * API 1.5: the user named these environments (`blast check NAME`): be as thorough as you can
   * (start processes, run the tools themselves). Unset or false for a check of every environment,
   * which must stay fast over a hundred of them: in-process checks, processes bounded.
   */
  named?: boolean;
}

export interface CleanEvent {
  envs: EnvInfo[];
  dryRun: boolean;
  /** \`blast clean --cache\` (API 1.2): also clear caches tools keep outside Blast, such as pip's. */
  caches: boolean;
}

/**
 * Which environment a plugin's own command is about (the `target` event, API 1.5): a plugin
 * command with `--env NAME` / `--path DIR` asks the core, with
 * `this.config.runHook('target', { env, path })`, instead of re-implementing the core's rules
 * (names, the active environment of this shell, project environments). Neither given: the active one.
 */
export interface TargetRequest {
  env?: string;
  path?: string;
}

/** The core's answer to `target`: the environment, and the context a payload would carry. */
export interface TargetAnswer {
  env: EnvInfo;
  ctx: BlastContext;
}

/** The events, typed for `Hook<'name'>` in plugins and `config.runHook` in the core. */
export interface BlastHooks {
  /** Return the shells this plugin provides. */
  shells: { options: WithContext<object>; return: ShellAdapter[] };
  /** Veto by throwing; nothing has been created or activated yet. */
  preStart: { options: WithContext<StartEvent>; return: void };
  /** Add to the activation. */
  activate: { options: WithContext<StartEvent>; return: ActivationContribution | void };
  /** After the shell change was handed to the shell. Failures are warnings. */
  postStart: { options: WithContext<StartEvent>; return: void };
  /** Veto by throwing (unless --force); the shell has not changed yet. */
  preKill: { options: WithContext<KillEvent>; return: void };
  /** After the restoration was handed to the shell. Failures are warnings. */
  postKill: { options: WithContext<KillEvent>; return: void };
  /** Return check results; a throwing handler becomes a failed check named after the plugin. */
  check: { options: WithContext<CheckEvent>; return: CheckResult[] };
  /** Return clean actions; the core runs them unless --dry-run. */
  clean: { options: WithContext<CleanEvent>; return: CleanAction[] };
  /**
   * Before an environment is deleted (API 1.4), also under --dry-run and before the user is
   * asked. Veto by throwing, with the way out in the message: the daemon refuses while it serves
   * the environment or a shell it recorded as attached still lives (the core only knows
   * the shell it runs in, and refuses itself when the environment is active there).
   */
  preRemove: { options: WithContext<RemoveEvent>; return: void };
  /** Return facts per environment for `blast list`; failures are warnings (API 1.1). */
  list: { options: WithContext<ListEvent>; return: EnvStatus[] };
  /**
   * Before pip runs in a transaction, or a restore changes installed distributions (API 1.1; for
   * every source, API 1.4). Veto by throwing: nothing runs and the environment is untouched.
   */
  preInstall: { options: WithContext<InstallEvent>; return: InstallContribution | void };
  /**
   * A pip install has been resolved and nothing is installed yet (API 1.5): pip resolved once,
   * and installs exactly \`report\` when every handler returns. Veto by throwing: pip installs
   * nothing and the environment is untouched. The place for an impact analysis and its question.
   */
  reviewInstall: { options: WithContext<ReviewEvent>; return: void };
  /**
   * After pip ran in a transaction (or a restore changed the distributions), before it is
   * committed (API 1.1). A throwing handler fails the transaction: the environment is put back as
   * it was before.
   */
  postInstall: { options: WithContext<PostInstallEvent>; return: void };
  /** Return the settings this plugin owns (API 1.2). No I/O: it runs for \`start\`, \`config\` and help. */
  settings: { options: WithContext<object>; return: SettingSpec[] };
  /**
   * Answered by the core only (API 1.5): which environment `--env`/`--path`/the active one names.
   * Throws the core's error (message, hint, exitCode) when there is none; runHook rethrows it.
   */
  target: { options: TargetRequest; return: TargetAnswer };
  /** Return a wrapper to start the process under, or nothing (API 1.2). Failures stop the start. */
  wrap: { options: WithContext<WrapEvent>; return: ProcessWrapper | void };
}

declare module '@oclif/core/hooks' {
  // Interface merging is how oclif types custom events.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Hooks extends BlastHooks {}
}
