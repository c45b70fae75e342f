// A separate process for the lock test: `count N` increments the counter file N times under the
// lock, checking no other holder is inside (an O_EXCL marker); `hold` takes it and never lets go
// (the test kills it with -9 while it holds).
import { openSync, closeSync, readFileSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { withLock } from '../../src/lib/fs/lock.js';

const [mode, lock, dir, n] = process.argv.slice(2);
const options = { what: `hammer ${mode}`, waitMs: 300_000 };
const sleeper = new Int32Array(new SharedArrayBuffer(4));

if (mode === 'hold') {
  withLock(
    lock!,
    () => {
      writeFileSync(`${dir}/holding-${process.pid}`, '');
      for (;;) Atomics.wait(sleeper, 0, 0, 1000);
    },
    options,
  );
} else {
  for (let i = 0; i < Number(n); i++) {
    withLock(
      lock!,
      () => {
        let fd: number;
        try {
          fd = openSync(`${dir}/inside`, 'wx');
        } catch {
          appendFileSync(`${dir}/overlaps`, `${process.pid}\n`);
          return;
        }
        const count = Number(readFileSync(`${dir}/counter`, 'utf8'));
        Atomics.wait(sleeper, 0, 0, 1); // widen the window a holder would share
        writeFileSync(`${dir}/counter`, String(count + 1));
        closeSync(fd);
        unlinkSync(`${dir}/inside`);
      },
      options,
    );
  }
}
