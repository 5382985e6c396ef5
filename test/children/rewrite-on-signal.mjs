// Opens a store, prints `ready <pid>`, and rewrites one session when SIGUSR2 arrives: `repair` (row
// A7) or `merge` of its conflict copies (row G9). The parent attaches strace to this pid after
// `ready`, so that only the rewrite's syscalls are counted and injected. `now` is fixed, so the
// recovery file's name is known. Prints `done <n>` (lines removed, or entries merged) or `failed <code>`.
import { openStore } from 'sessionlog';

const [op, dir, id, now] = process.argv.slice(2);
const store = await openStore({ dir, now: () => Number(now) });
process.once('SIGUSR2', () => {
  const run = op === 'merge' ? store.mergeConflicts(id).then((r) => r.entries) : store.repair(id).then((r) => r.removed.length);
  void run.then(
    (n) => {
      console.log(`done ${n}`);
      process.exit(0);
    },
    (err) => {
      console.log(`failed ${err?.code ?? err?.message}`);
      process.exit(1);
    },
  );
});
setInterval(() => {}, 1 << 30); // wait for the signal
console.log(`ready ${process.pid}`);
