// Counts the inotify watches this process holds (over all its inotify fds), from /proc/self/fdinfo.
// Plain JavaScript so that both the TypeScript tests and the plain-node benchmarks can import it.
import fs from 'node:fs';

/** @returns {number} */
export function inotifyWatches() {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    n += fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return n;
}
