/**
 * `blast init --install` / `--uninstall`: one managed block in the user's rc file, like conda's
 *
 *   # >>> blast initialize >>>
 *   # managed by `blast init --install`; `blast init --uninstall` removes it
 *   eval "$(blast init bash)"
 *   # <<< blast initialize <<<
 *
 * Rules: idempotent (a second run writes nothing), the rest of the file is never touched, byte for
 * byte — the file is handled as bytes (latin1 is a lossless byte↔char map), so a file that is not
 * UTF-8, has CRLF line ends, a BOM or no final newline keeps them. The block uses the file's line
 * end. Writes are atomic (a temp file in the same directory, fsync, rename) and keep the file's
 * mode; a symlinked rc file (dotfiles repositories) is written through the link, which stays a
 * link. Before a change the old content goes to `<file>.blast-backup`, unless that exists: the
first backup (the file before Blast) is kept.
 *
 * Uninstalling gives back the file as it was: when the file did not end with a line break, the
 * block is appended after one (so a later `echo … >> rc` cannot end up on our end marker) and its
 * header records that, so `--uninstall` takes that line break away too.
 */
import { mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { ShellAdapter } from '../plugin-host/contract.js';

export const BEGIN = '# >>> blast initialize >>>';
export const END = '# <<< blast initialize <<<';
const HEADER = '# managed by `blast init --install`; `blast init --uninstall` removes it';
/** The same header, for a block that had to add a line break to the file's last line. */
const HEADER_ADDED_BREAK = `${HEADER} (and the line break before it)`;
export const BACKUP_SUFFIX = '.blast-backup';
const BOM = '\xef\xbb\xbf'; // UTF-8's byte order mark, as latin1 characters

export type RcEncoding = 'utf8' | 'utf8-bom';

/** Text as bytes: each char of the string is one byte of the file (latin1). */
type Bytes = string;

const toBytes = (text: string): Bytes => Buffer.from(text, 'utf8').toString('latin1');

interface Line {
  /** The line without its terminator. */
  text: Bytes;
  /** Offsets of the line's start and of the start of the next line. */
  start: number;
  end: number;
}

function lines(content: Bytes): Line[] {
  const out: Line[] = [];
  let start = content.startsWith(BOM) ? BOM.length : 0;
  while (start < content.length) {
    const nl = content.indexOf('\n', start);
    const end = nl < 0 ? content.length : nl + 1;
    const text = content.slice(start, nl < 0 ? end : nl).replace(/\r$/, '');
    out.push({ text, start, end });
    start = end;
  }
  return out;
}

/** The file's line end: that of its first line, else `\n`. */
function eolOf(content: Bytes): string {
  const nl = content.indexOf('\n');
  return nl > 0 && content[nl - 1] === '\r' ? '\r\n' : '\n';
}

const isMarker = (line: Line, marker: string) => line.text.trimEnd() === marker;

interface Block {
  start: number;
  end: number;
  /** The block's header says install added the line break before it. */
  addedBreak: boolean;
}

/** Every managed block; a begin marker without its end marker is refused, not guessed at. */
function findBlocks(content: Bytes, file: string): Block[] {
  const all = lines(content);
  const blocks: Block[] = [];
  for (let i = 0; i < all.length; i++) {
    if (!isMarker(all[i]!, BEGIN)) continue;
    const close = all.findIndex((line, j) => j > i && isMarker(line, END));
    const nested = all.findIndex((line, j) => j > i && isMarker(line, BEGIN));
    if (close < 0 || (nested >= 0 && nested < close)) {
      throw new BlastError(
        `${file} has a "${BEGIN}" line without its "${END}" line, so Blast cannot tell where its block ends.`,
        ExitCode.failure,
        'Fix or remove the block by hand, then run the command again.',
      );
    }
    blocks.push({
      start: all[i]!.start,
      end: all[close]!.end,
      addedBreak: all[i + 1]?.text.trimEnd() === HEADER_ADDED_BREAK,
    });
    i = close;
  }
  return blocks;
}

function renderBlock(line: string, eol: string, addedBreak: boolean): Bytes {
  const body = toBytes(line)
    .replace(/\r?\n$/, '')
    .split(/\r?\n/);
  return [BEGIN, addedBreak ? HEADER_ADDED_BREAK : HEADER, ...body, END].join(eol) + eol;
}

/** The content with exactly one block holding `line`, where the first block was (else at the end). */
export function withBlock(content: Bytes, line: string, file = 'the rc file'): Bytes {
  const blocks = findBlocks(content, file);
  const eol = eolOf(content);
  const [first] = blocks;
  if (!first) {
    const bom = content.startsWith(BOM) ? BOM : '';
    const rest = content.slice(bom.length);
    const addedBreak = rest !== '' && !rest.endsWith('\n');
    return content + (addedBreak ? eol : '') + renderBlock(line, eol, addedBreak);
  }
  let out = content.slice(0, first.start) + renderBlock(line, eol, first.addedBreak);
  let at = first.end;
  for (const extra of blocks.slice(1)) {
    out += content.slice(at, extra.start);
    at = extra.end;
  }
  return out + content.slice(at);
}

/** The content without any block (and without the line break an install added before one). */
export function withoutBlock(content: Bytes, file = 'the rc file'): Bytes {
  let out = '';
  let at = 0;
  for (const block of findBlocks(content, file)) {
    let start = block.start;
    const atEnd = block.end === content.length;
    if (block.addedBreak && atEnd) {
      if (content.slice(at, start).endsWith('\r\n')) start -= 2;
      else if (content.slice(at, start).endsWith('\n')) start -= 1;
    }
    out += content.slice(at, start);
    at = block.end;
  }
  return out + content.slice(at);
}

export interface RcRequest {
  /** Absolute path of the rc file. */
  file: string;
  action: 'install' | 'uninstall';
  /** The line(s) to put in the block (install). */
  line?: string;
  encoding?: RcEncoding;
}

export interface RcResult {
  file: string;
  action: 'install' | 'uninstall';
  changed: boolean;
  /** Whether the file was created by this install. */
  created: boolean;
  /** Where the previous content went, when there was any and it changed. */
  backup?: string;
  /**
   * The backup was there already and was kept: it holds the file from before Blast's first change,
   * which a later change must not replace with a file that already has Blast's block.
   */
  backupKept?: boolean;
}

function readBytes(path: string): Bytes | undefined {
  try {
    return readFileSync(path).toString('latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BlastError(`Cannot read ${path}: ${(error as Error).message}`, ExitCode.failure);
  }
}

/** The file to write: a symlink's target (followed, also when dangling), else the path itself. */
function target(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Replace `path` with `bytes` (latin1: the file's own bytes, whatever their encoding) atomically,
 * keeping `mode` (a new file: 0666 less the umask, as an editor would make it). `exclusive`: only
 * create it; returns false, writing nothing, when it exists.
 */
export function writeAtomic(path: string, bytes: Bytes, mode?: number, exclusive = false): boolean {
  return writeFileAtomic(path, Buffer.from(bytes, 'latin1'), { mode: mode ?? 'umask', exclusive });
}

export function applyRc(request: RcRequest): RcResult {
  const file = target(request.file);
  const before = readBytes(file);
  let after: Bytes;
  if (request.action === 'install') {
    if (request.line === undefined) throw new Error('applyRc: install needs a line');
    const start = before ?? (request.encoding === 'utf8-bom' ? BOM : '');
    after = withBlock(start, request.line, request.file);
  } else {
    after = before === undefined ? '' : withoutBlock(before, request.file);
  }
  const result: RcResult = {
    file: request.file,
    action: request.action,
    changed: after !== (before ?? ''),
    created: false,
  };
  if (!result.changed) return result;
  try {
    if (before === undefined) {
      mkdirSync(dirname(file), { recursive: true });
      writeAtomic(file, after);
      result.created = true;
    } else {
      const mode = statSync(file).mode & 0o7777;
      result.backup = request.file + BACKUP_SUFFIX;
      // The first backup is the file before Blast: never replaced (a second install, or an
      // uninstall after one, would otherwise leave only versions with Blast's block in it).
      if (!writeAtomic(result.backup, before, mode, true)) result.backupKept = true;
      writeAtomic(file, after, mode);
    }
  } catch (error) {
    if (error instanceof BlastError) throw error;
    throw new BlastError(`Cannot write ${request.file}: ${(error as Error).message}`, ExitCode.failure);
  }
  return result;
}

/**
 * Where an adapter's rc file is: `rcFile` is relative to the home directory; one under `.config/`
 * follows XDG_CONFIG_HOME when that is set, as the shells that keep their rc files there do.
 */
export function rcPath(rcFile: string, env: Readonly<Record<string, string | undefined>>): string {
  const home = env.HOME || homedir();
  const xdg = env.XDG_CONFIG_HOME;
  const rel = rcFile.replace(/^~[\\/]/, '');
  if (xdg && isAbsolute(xdg) && /^\.config[\\/]/.test(rel)) return join(xdg, rel.slice('.config/'.length));
  return join(home, rel);
}

/** `path` with the home directory shown as `~`, for messages. */
export function tildePath(path: string, env: Readonly<Record<string, string | undefined>>): string {
  const home = env.HOME || homedir();
  return home && (path === home || path.startsWith(home + sep)) ? '~' + path.slice(home.length) : path;
}

/** `blast init --install` / `--uninstall`: the block that loads `adapter`'s shell function, in its rc file. */
export function installFunction(
  adapter: ShellAdapter,
  action: 'install' | 'uninstall',
  bin: string,
  env: NodeJS.ProcessEnv,
): RcResult & { line: string } {
  if (!adapter.rcLine) {
    throw new BlastError(
      `The ${adapter.name} adapter cannot install itself in an rc file (it has no rcLine; plugin API 1.1).`,
      ExitCode.failure,
      `Load the output of \`blast init ${adapter.name}\` from your shell's startup file yourself.`,
    );
  }
  const line = adapter.rcLine(bin);
  const result = applyRc({
    file: rcPath(adapter.rcFile, env),
    action,
    line,
    encoding: adapter.rcEncoding ?? 'utf8',
  });
  return { line, ...result };
}

/** What `blast init --install` / `--uninstall` did, as a user reads it. */
export function rcReport(result: RcResult, shell: string, env: NodeJS.ProcessEnv): string {
  const file = tildePath(result.file, env);
  const backup = !result.backup
    ? ''
    : result.backupKept
      ? ` (the version from before Blast stays in ${tildePath(result.backup, env)})`
      : ` (the previous version is in ${tildePath(result.backup, env)})`;
  if (result.action === 'install') {
    return result.changed
      ? `${result.created ? 'Created' : 'Updated'} ${file}: it loads the blast function now${backup}.\n` +
          `Open a new ${shell} to use it.`
      : `${file} already loads the blast function; nothing changed.`;
  }
  return result.changed
    ? `Removed the blast block from ${file}${backup}.`
    : `${file} has no blast block; nothing changed.`;
}
