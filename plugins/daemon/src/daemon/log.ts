/** The daemon's log: one file per environment, rotated at a size limit, one old file kept. */
import { appendFileSync, renameSync, statSync } from 'node:fs';

export class Log {
  private size: number;

  constructor(
    private readonly file: string,
    private readonly limit = 1024 * 1024,
  ) {
    this.size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  }

  write(message: string): void {
    const line = `${new Date().toISOString()} [${process.pid}] ${message.replace(/\n/g, '\\n')}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.size + bytes > this.limit) {
        renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      appendFileSync(this.file, line, { mode: 0o600 });
      this.size += bytes;
    } catch {
      // A log that cannot be written must not stop the daemon.
    }
  }
}
