/**
 * Blast's generated init file: nothing at shell start-up.
 *
 * `eval "$(blast init bash)"` in an rc file starts Node and oclif in every new shell (+130–200 ms;
 * conda#11648). So `blast init --install` writes the function's code into a file under Blast's data
 * directory, `BLAST_HOME/init/blast.<ext>`, and the rc file only sources it when it exists: no
 * process starts. The file goes stale when Blast or a plugin changes; it carries a stamp (Blast's
 * version and root, each plugin's name, version, root and the mtimes of its package.json and
 * manifest) that the function passes to every CLI call in BLAST_SHELL_INIT, a CLI process it
 * starts anyway. When the stamp differs, that CLI writes the file again and appends a line to the
 * function's script that sources it, so the next call already runs the new code.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Interfaces } from '@oclif/core';
import type { InitContext, ShellAdapter } from '../plugin-host/contract.js';
import { completionModel } from './completion.js';
import { BlastError, ExitCode, messageOf } from '../cli/errors.js';
import { blastHome, type Env } from '../paths.js';
import { applyRc, installFunction, rcPath, type RcResult, writeAtomic } from './rc-install.js';
import { userBin } from '../cli/user-bin.js';
import { PID_VARIABLE } from './pid.js';
import { appendShellCode, SCRIPT_VARIABLE, SHELL_VARIABLE, shellFunction } from './script.js';
import { AUTO_HOOK } from './auto.js';
import { byText } from '../text-order.js';

type Config = Interfaces.Config;

export const INIT_VARIABLE = 'BLAST_SHELL_INIT';

export interface InitOptions {
  /** Add the auto-activation prompt hook (`--auto`). */
  auto: boolean;
}

/** What the function passes in BLAST_SHELL_INIT: the file it was loaded from, and how it was made. */
interface InitMark {
  v: 1;
  stamp: string;
  auto: boolean;
  file: string;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Everything the generated code depends on, cheaply: a few stat calls, no plugin code loaded. A
 * rebuilt plugin rewrites its manifest, an upgraded one changes its version or root.
 */
export function initStamp(config: Config): string {
  const hash = createHash('sha256').update(JSON.stringify([config.version, config.root]));
  const plugins = [...config.plugins.values()].sort((a, b) => byText(a.name, b.name));
  for (const p of plugins) {
    const files = ['package.json', 'oclif.manifest.json'].map((f) => mtime(join(p.root, f)));
    hash.update(JSON.stringify([p.name, p.version, p.type, p.root, ...files]));
  }
  return hash.digest('hex').slice(0, 20);
}

/** The code completions need from @oclif/plugin-autocomplete's cache, for the shells it covers. */
const AUTOCOMPLETE_FILES: Record<string, string> = {
  bash: 'blast.bash',
  zsh: '_blast',
  powershell: 'blast.ps1',
};

function completionScript(config: Config, shell: string): string | undefined {
  const file = AUTOCOMPLETE_FILES[shell];
  if (!file || !config.plugins.has('@oclif/plugin-autocomplete')) return undefined;
  return join(config.cacheDir, 'autocomplete', 'functions', shell, file.replace('blast', config.bin));
}

/** What `blast init <shell>` gives the adapter; `extra` for the generated file's additions. */
export function initContext(config: Config, extra: Partial<InitContext> = {}): InitContext {
  return {
    bin: join(config.root, 'bin', 'run.js'),
    scriptVariable: SCRIPT_VARIABLE,
    shellVariable: SHELL_VARIABLE,
    pidVariable: PID_VARIABLE,
    completion: completionModel(config),
    ...extra,
  };
}

function refuseAuto(adapter: ShellAdapter): never {
  throw new BlastError(
    `The ${adapter.name} adapter has no prompt hook, so it cannot auto-activate projects (--auto).`,
    ExitCode.usage,
    `Run \`blast init ${adapter.name}\` without --auto, and \`blast start\` in a project yourself.`,
  );
}

/** The code `blast init <shell>` prints (for `eval`), with the prompt hook when `auto`. */
export function printedInit(config: Config, adapter: ShellAdapter, options: InitOptions): string {
  if (options.auto && !adapter.autoHook) refuseAuto(adapter);
  const code = adapter.init(initContext(config));
  return options.auto ? code + adapter.autoHook!(AUTO_HOOK) : code;
}

/** Where the generated file of `adapter` lives. */
export function initFilePath(adapter: ShellAdapter, env: Env): string {
  return join(blastHome(env), 'init', `blast.${adapter.initFile!.extension}`);
}

/** The generated file's code and its companions: the function passes the stamp back on every call. */
export interface Generated {
  code: string;
  companions: Record<string, string>;
}

export function generatedInit(
  config: Config,
  adapter: ShellAdapter,
  env: Env,
  options: InitOptions,
): Generated {
  if (options.auto && !adapter.autoHook) refuseAuto(adapter);
  const file = initFilePath(adapter, env);
  const mark: InitMark = { v: 1, stamp: initStamp(config), auto: options.auto, file };
  const script = completionScript(config, adapter.name);
  const ctx = initContext(config, {
    stamp: { variable: INIT_VARIABLE, value: JSON.stringify(mark) },
    initDir: dirname(file),
    ...(script ? { completionScript: script } : {}),
  });
  const code = adapter.init(ctx);
  return {
    code: options.auto ? code + adapter.autoHook!(AUTO_HOOK) : code,
    companions: adapter.initFile?.companions?.(ctx) ?? {},
  };
}

const BOM = '\xef\xbb\xbf';

function writeIfChanged(file: string, bytes: string): void {
  try {
    if (readFileSync(file).toString('latin1') === bytes) return;
  } catch {
    // not there yet
  }
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeAtomic(file, bytes, 0o644);
  } catch (error) {
    throw new BlastError(`Cannot write ${file}: ${messageOf(error)}`, ExitCode.failure);
  }
}

const asBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** Write the generated file and its companions where their content differs (companions first). */
export function writeInitFile(adapter: ShellAdapter, env: Env, generated: Generated): void {
  const file = initFilePath(adapter, env);
  for (const [rel, content] of Object.entries(generated.companions))
    writeIfChanged(join(dirname(file), rel), asBytes(content));
  writeIfChanged(file, (adapter.rcEncoding === 'utf8-bom' ? BOM : '') + asBytes(generated.code));
}

/** Remove the generated file and its companions (`--uninstall`). */
export function removeInitFile(config: Config, adapter: ShellAdapter, env: Env): void {
  const file = initFilePath(adapter, env);
  const { companions } = generatedInit(config, adapter, env, { auto: false });
  for (const path of [file, ...Object.keys(companions).map((rel) => join(dirname(file), rel))]) {
    try {
      unlinkSync(path);
    } catch {
      // not there
    }
  }
}

/**
 * Refresh @oclif/plugin-autocomplete's cache, which the generated bash, zsh and PowerShell files
 * load; best effort (completions are a convenience, the function is not).
 */
export async function refreshCompletions(config: Config, adapter: ShellAdapter): Promise<void> {
  if (!completionScript(config, adapter.name)) return;
  const write = process.stdout.write;
  try {
    // Its own progress lines would land in the function's output (or `--json`).
    process.stdout.write = () => true;
    await config.runCommand('autocomplete:create');
  } catch {
    // Without the cache the generated file simply loads no completions.
  } finally {
    process.stdout.write = write;
  }
}

function parseMark(raw: string): InitMark | undefined {
  try {
    const m = JSON.parse(raw) as Partial<InitMark>;
    if (m.v === 1 && typeof m.stamp === 'string' && typeof m.auto === 'boolean' && typeof m.file === 'string')
      return m as InitMark;
  } catch {
    // not ours
  }
  return undefined;
}

/**
 * Run before every command (the core's init hook), only when the function came from a generated
 * file: if the file's stamp is not this installation's, write the file again and have the shell
 * source it after this call. Never fails the user's command: a problem is one warning.
 */
export async function refreshInitFile(config: Config, env: Env): Promise<void> {
  const raw = env[INIT_VARIABLE];
  const through = shellFunction(env);
  if (!raw || !through) return;
  const mark = parseMark(raw);
  if (!mark || mark.stamp === initStamp(config)) return;
  try {
    const { findShell } = await import('./adapters.js');
    const adapter = await findShell(config, through.shell);
    // Only Blast's own file for this shell, where this installation would put it.
    if (!adapter.initFile || mark.file !== initFilePath(adapter, env)) return;
    if (mark.auto && !adapter.autoHook) return;
    await refreshCompletions(config, adapter);
    writeInitFile(adapter, env, generatedInit(config, adapter, env, { auto: mark.auto }));
    appendShellCode(through.script, adapter.initFile.sourceLine(mark.file) + '\n');
  } catch (error) {
    process.stderr.write(`blast: warning: cannot update ${mark.file}: ${messageOf(error)}\n`);
  }
}

/** What `blast init --install` / `--uninstall` did. */
export type InitInstalled = RcResult & { shell: string; line: string; initFile?: string };

/**
 * `blast init --install` / `--uninstall`: with an adapter that has an init file, the generated
 * file first (the rc line that sources it must never point at nothing new), then the rc line; with
 * an older adapter, its eval line (rcLine). --auto needs the init file.
 */
export async function installShellInit(
  config: Config,
  adapter: ShellAdapter,
  action: 'install' | 'uninstall',
  env: NodeJS.ProcessEnv,
  options: InitOptions,
): Promise<InitInstalled> {
  if (!adapter.initFile) {
    if (options.auto)
      throw new BlastError(
        `The ${adapter.name} adapter cannot install --auto (it has no generated init file; plugin API 1.5).`,
        ExitCode.usage,
        `Load the output of \`blast init ${adapter.name} --auto\` from your shell's startup file yourself.`,
      );
    return { shell: adapter.name, ...installFunction(adapter, action, userBin(config.root, env), env) };
  }
  const file = initFilePath(adapter, env);
  if (action === 'install') {
    const generated = generatedInit(config, adapter, env, options);
    await refreshCompletions(config, adapter);
    writeInitFile(adapter, env, generated);
  }
  const line = adapter.initFile.sourceLine(file);
  const result = applyRc({
    file: rcPath(adapter.rcFile, env),
    action,
    line,
    encoding: adapter.rcEncoding ?? 'utf8',
  });
  if (action === 'uninstall') removeInitFile(config, adapter, env);
  return { shell: adapter.name, line, initFile: file, ...result };
}
