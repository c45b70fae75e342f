/**
 * Closes the descriptors the daemon inherited. A daemon must hold nothing of the process that
 * started it: a pipe kept open keeps a caller's `$(…)`, a test harness or a CI step waiting for
 * EOF until the daemon exits, and a file kept open keeps it from being unmounted. Node opens every
 * descriptor of its own close-on-exec, so after exec the only descriptors above 2 without
 * O_CLOEXEC are inherited ones (libuv's spawn does not close those). Linux: /proc/self/fdinfo.
 */
import { closeSync, readdirSync, readFileSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

export function closeInheritedDescriptors(): number[] {
  const closed: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fdinfo');
  } catch {
    return closed; // not Linux
  }
  for (const name of fds) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags === undefined || (parseInt(flags, 8) & O_CLOEXEC) !== 0) continue;
      closeSync(fd);
      closed.push(fd);
    } catch {
      // gone, or the directory's own descriptor
    }
  }
  return closed;
}
