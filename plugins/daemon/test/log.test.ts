/** The daemon's log stays bounded: rotated at its limit, one old file kept. */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../src/daemon/log.js';

describe('daemon log', () => {
  it('rotates at the size limit and keeps one old file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blast-log-'));
    try {
      const file = join(dir, 'daemon.log');
      const log = new Log(file, 4096);
      for (let i = 0; i < 1000; i++) log.write(`line ${i} ${'x'.repeat(50)}`);
      expect(statSync(file).size).to.be.at.most(4096);
      expect(statSync(`${file}.1`).size).to.be.at.most(4096);
      expect(existsSync(`${file}.2`)).to.equal(false);
      expect(readFileSync(file, 'utf8')).to.include('line 999 ');
      // A new Log on the same file goes on counting from its size.
      new Log(file, 4096).write('multi\nline');
      expect(readFileSync(file, 'utf8')).to.include('multi\\nline');
      expect(statSync(file).size).to.be.at.most(4096);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
