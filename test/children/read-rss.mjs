// Reads a session (forwards, then its tail) and reports counts and the process's peak RSS.
import { openStore } from 'sessionlog';

const [dir, id] = process.argv.slice(2);
const store = await openStore({ dir });
const before = process.resourceUsage().maxRSS;
const t0 = performance.now();
const { entries, problems } = await store.read(id);
const readMs = performance.now() - t0;
const tail = await store.read(id, { tail: 5 });
const info = await store.get(id);
await store.close();
console.log(JSON.stringify({ entries: entries.length, kinds: problems.map((p) => p.kind), tail: tail.entries.length, infoEntries: info?.entryCount, readMs, baselineKiB: before, peakKiB: process.resourceUsage().maxRSS }));
