// A long-running store with `watch`: prints how many sessions (and entries) it lists whenever that
// changes, so the parent can tell when it has converged on what is on disk.
import { openStore } from 'sessionlog';

const [dir, reconcileMs] = process.argv.slice(2);
const store = await openStore({ dir, watch: { reconcileIntervalMs: Number(reconcileMs ?? 10000) } });

async function census() {
  let sessions = 0;
  let entries = 0;
  let cursor;
  do {
    const page = await store.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    sessions += page.sessions.length;
    for (const s of page.sessions) entries += s.entryCount;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return `${sessions} ${entries}`;
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
