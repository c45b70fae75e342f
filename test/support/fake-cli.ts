/**
 * A stand-in for the Blast CLI, for testing a shell function alone: a small sh script that
 * records what it was given (arguments, protocol variables, its script file, whether it has a
 * terminal), writes a prepared change into $BLAST_SHELL_SCRIPT and exits with a chosen status.
 * It lives at a path the shell's tests choose, full of what that shell must quote.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitNul } from './shells.js';

export interface FakeCliShape {
  /** The folder name the CLI lives in: what the shell under test must quote. */
  dirName: string;
  /** Shell code the CLI writes before killing itself: half a change that must never be sourced. */
  halfScript: string;
}

const shQuote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

const script = (half: string) => `#!/bin/sh
out=$FAKE_OUT
if [ $# -gt 0 ]; then printf '%s\\0' "$@"; fi > "$out/args"
printf '%s\\0' "\${BLAST_SHELL-<unset>}" "\${BLAST_SHELL_SCRIPT-<unset>}" > "$out/protocol"
stat -c '%a %s %U' "$BLAST_SHELL_SCRIPT" > "$out/file" 2>&1
terminal='no tty'; if [ -t 0 ] && [ -t 1 ]; then terminal=tty; fi; echo "$terminal" > "$out/terminal"
echo "cli stdout"
echo "cli stderr" >&2
if [ -f "$out/change" ]; then cat "$out/change" > "$BLAST_SHELL_SCRIPT"; fi
case $(cat "$out/mode" 2>/dev/null) in
  kill) printf '%s' ${shQuote(half)} >> "$BLAST_SHELL_SCRIPT"; kill -9 $$ ;;
  sleep) echo sleeping > "$out/sleeping"; sleep 30 ;;
esac
exit "$(cat "$out/code" 2>/dev/null || echo 0)"
`;

export class FakeCli {
  readonly bin: string;
  readonly out: string;

  constructor(root: string, shape: FakeCliShape) {
    const dir = join(root, shape.dirName);
    mkdirSync(dir, { recursive: true });
    this.bin = join(dir, 'blast');
    writeFileSync(this.bin, script(shape.halfScript));
    chmodSync(this.bin, 0o755);
    this.out = join(root, 'fake-out');
    mkdirSync(this.out, { recursive: true });
  }

  /** What the next call does: write `change` (if any), then exit with `code` or misbehave. */
  next(options: { change?: string; code?: number; mode?: 'kill' | 'sleep' }): void {
    for (const f of ['args', 'protocol', 'file', 'terminal', 'change', 'mode', 'code', 'sleeping']) {
      rmSync(join(this.out, f), { force: true });
    }
    if (options.change !== undefined) writeFileSync(join(this.out, 'change'), options.change);
    if (options.mode) writeFileSync(join(this.out, 'mode'), options.mode);
    writeFileSync(join(this.out, 'code'), String(options.code ?? 0));
  }

  args(): string[] {
    return splitNul(readFileSync(join(this.out, 'args'))).map((b) => b.toString('utf8'));
  }

  protocol(): { shell: string; script: string } {
    const [shell, script] = splitNul(readFileSync(join(this.out, 'protocol'))).map((b) => b.toString('utf8'));
    return { shell: shell!, script: script! };
  }

  /** `stat` of the script file as the CLI saw it: mode, size, owner. */
  file(): string {
    return readFileSync(join(this.out, 'file'), 'utf8').trim();
  }

  terminal(): string {
    return readFileSync(join(this.out, 'terminal'), 'utf8').trim();
  }
}
