// Opens a store, prints `ready <pid>`, and repairs one session when SIGUSR2 arrives (row A7: the
// parent attaches strace to this pid after `ready`, so that only the repair's syscalls are counted
// and injected). `now` is fixed, so the recovery file's name is known. Prints `repaired`.
import { openStore } from 'sessionlog';

const [dir, id, now] = process.argv.slice(2);
const store = await openStore({ dir, now: () => Number(now) });
process.once('SIGUSR2', () => {
  void store.repair(id).then(
    (report) => {
      console.log(`repaired ${report.removed.length}`);
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
