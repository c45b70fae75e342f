import { renameSync, writeFileSync } from 'node:fs';

/**
 * Write `file` whole under a temporary name, then rename it into place: a reader never sees half
 * a file, and of two writers each leaves a whole one.
 */
export function replaceFile(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}
