/**
 * A yes/no question on the terminal, answered by a line. Read synchronously from stdin (Node has
 * not put it in non-blocking mode unless something read it as a stream; then from /dev/tty),
 * so pip, which runs next on the same terminal, finds its input untouched.
 */
import { closeSync, openSync, readSync } from 'node:fs';

function readLine(fd: number): string | undefined {
  const byte = Buffer.alloc(1);
  let line = '';
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, byte, 0, 1, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') throw error;
      return line === '' ? undefined : line;
    }
    if (n === 0) return line === '' ? undefined : line; // end of input: no answer
    const c = byte.toString('latin1');
    if (c === '\n') return line;
    line += c;
  }
}

/** Ask; true only for an answer of y or yes. End of input, or no terminal to read from, is no. */
export function confirm(
  question: string,
  write: (text: string) => void = (t) => process.stderr.write(t),
): boolean {
  write(question);
  let answer: string | undefined;
  try {
    answer = readLine(0);
  } catch {
    let fd: number | undefined;
    try {
      fd = openSync('/dev/tty', 'r');
      answer = readLine(fd);
    } catch {
      answer = undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  if (answer === undefined) write('\n');
  return /^\s*y(es)?\s*$/i.test(answer ?? '');
}
