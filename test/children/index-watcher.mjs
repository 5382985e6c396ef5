// A long-running store with `watch`: prints how many sessions (and entries) it lists whenever that
// changes, so the parent can tell when it has converged on what is on disk.
import { openStore } from 'sessionlog';
import { listAll } from './list-all.mjs';

const [dir, reconcileMs] = process.argv.slice(2);
const store = await openStore({ dir, watch: { reconcileIntervalMs: Number(reconcileMs ?? 10000) } });

async function census() {
  const sessions = await listAll(store);
  return `${sessions.length} ${sessions.reduce((sum, s) => sum + s.entryCount, 0)}`;
}

let last = '';
const timer = setInterval(async () => {
  const now = await census();
  if (now !== last) console.log(`census ${now} at ${Date.now()}`);
  last = now;
}, 50);
console.log('ready');
process.on('SIGTERM', () => {
  clearInterval(timer);
  void store.close().then(() => process.exit(0));
});
