/**
 * The tar files a distribution's layer is: POSIX ustar, with a PAX `path`/`linkpath` record for
 * names longer than ustar holds. Written deterministically (entries in the order given, mtime 0,
 * uid/gid 0, no user names), so the same files make the same bytes and the same digest on every
 * machine: a registry (and the HEAD before an upload) deduplicates them. Read back strictly: only
 * regular files, symbolic links and PAX headers; anything else is refused.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { BlastError, ExitCode } from '../cli/errors.js';

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, mode: number, size: number, type: string, link = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(link, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A PAX record `"<len> key=value\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

const fits = (s: string) => Buffer.byteLength(s) < 100 && /^[\x20-\x7e]*$/.test(s);

/** Writes a tar to a file descriptor, hashing and counting what it writes. */
export class TarWriter {
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  constructor(private readonly fd: number) {}

  private write(data: Buffer): void {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    this.hash.update(data);
    this.size += data.length;
  }

  private pad(n: number): void {
    const rest = n % BLOCK;
    if (rest) this.write(ZEROS.subarray(0, BLOCK - rest));
  }

  private names(path: string, link?: string): { name: string; link: string } {
    const records: string[] = [];
    if (!fits(path)) records.push(paxRecord('path', path));
    if (link !== undefined && !fits(link)) records.push(paxRecord('linkpath', link));
    if (records.length) {
      const pax = Buffer.from(records.join(''));
      this.write(header('PaxHeader', 0o644, pax.length, 'x'));
      this.write(pax);
      this.pad(pax.length);
    }
    return {
      name: fits(path) ? path : path.slice(0, 99).replace(/[^\x20-\x7e]/g, '_'),
      link: link === undefined ? '' : fits(link) ? link : '',
    };
  }

  /** A regular file whose bytes are `source`'s (`size` of them), read in chunks. */
  file(path: string, mode: number, source: string, size: number): void {
    const { name } = this.names(path);
    this.write(header(name, mode, size, '0'));
    const fd = openSync(source, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(size, 1)));
      let off = 0;
      while (off < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - off), off);
        if (n === 0) throw new BlastError(`${source} is shorter than the store says.`);
        this.write(buf.subarray(0, n));
        off += n;
      }
    } finally {
      closeSync(fd);
    }
    this.pad(size);
  }

  /** A regular file from memory. */
  bytes(path: string, mode: number, data: Buffer): void {
    const { name } = this.names(path);
    this.write(header(name, mode, data.length, '0'));
    this.write(data);
    this.pad(data.length);
  }

  symlink(path: string, target: string): void {
    const { name, link } = this.names(path, target);
    this.write(header(name, 0o777, 0, '2', link));
  }

  /** The end-of-archive blocks; returns the tar's digest and size. */
  end(): { digest: string; size: number } {
    this.write(ZEROS);
    return { digest: `sha256:${this.hash.digest('hex')}`, size: this.size };
  }
}

export type TarEntry =
  | { type: 'file'; path: string; mode: number; size: number; data: Buffer }
  | { type: 'symlink'; path: string; target: string };

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function number(h: Buffer, start: number, len: number, file: string): number {
  const text = field(h, start, len).trim();
  if (!/^[0-7]*$/.test(text)) throw corrupt(file, 'a header number is not octal');
  return text === '' ? 0 : parseInt(text, 8);
}

function corrupt(file: string, why: string): BlastError {
  return new BlastError(
    `The layer ${file} is not a tar Blast wrote: ${why}; nothing was changed.`,
    ExitCode.failure,
  );
}

/** Every entry of the tar at `file`, in order (a file's bytes in memory, one at a time). */
export function* readTar(file: string): Generator<TarEntry> {
  const fd = openSync(file, 'r');
  let pos = 0;
  const read = (n: number): Buffer => {
    const buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      const got = readSync(fd, buf, off, n - off, pos + off);
      if (got === 0) throw corrupt(file, 'it ends in the middle of an entry');
      off += got;
    }
    pos += n;
    return buf;
  };
  const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
  try {
    let pax: Record<string, string> = {};
    for (;;) {
      const h = read(BLOCK);
      if (h.every((b) => b === 0)) return;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
      if (sum !== number(h, 148, 8, file)) throw corrupt(file, 'a header checksum is wrong');
      const type = String.fromCharCode(h[156]!);
      const size = number(h, 124, 12, file);
      if (type === 'x') {
        const raw = read(padded(size)).subarray(0, size);
        pax = {};
        for (let i = 0; i < raw.length;) {
          const space = raw.indexOf(0x20, i);
          const len = Number(raw.subarray(i, space).toString('ascii'));
          if (space < 0 || !Number.isInteger(len) || len <= 0 || i + len > raw.length)
            throw corrupt(file, 'a PAX record is malformed');
          const record = raw.subarray(space + 1, i + len - 1).toString('utf8');
          const eq = record.indexOf('=');
          pax[record.slice(0, eq)] = record.slice(eq + 1);
          i += len;
        }
        continue;
      }
      const path = pax.path ?? field(h, 0, 100);
      const link = pax.linkpath ?? field(h, 157, 100);
      pax = {};
      if (type === '0' || type === '\0') {
        const data = read(padded(size)).subarray(0, size);
        yield { type: 'file', path, mode: number(h, 100, 8, file) & 0o7777, size, data };
      } else if (type === '2') {
        yield { type: 'symlink', path, target: link };
      } else {
        throw corrupt(file, `${path} is of tar type ${JSON.stringify(type)}`);
      }
    }
  } finally {
    closeSync(fd);
  }
}
