// Reads a session (forwards, its tail and its listing info), with the default maxEntryBytes or the
// one given, and reports the ids, problem kinds, the read time and the process's peak RSS (rows D7, D8).
import { openStore } from 'sessionlog';

const [dir, id, maxEntryBytes] = process.argv.slice(2);
const store = await openStore(maxEntryBytes === undefined ? { dir } : { dir, maxEntryBytes: Number(maxEntryBytes) });
const before = process.resourceUsage().maxRSS;
const t0 = performance.now();
const { entries, problems } = await store.read(id);
const readMs = performance.now() - t0;
const tail = await store.read(id, { tail: 5 });
const info = await store.get(id);
await store.close();
console.log(
  JSON.stringify({
    ids: entries.map((e) => e.id),
    problems: problems.map((p) => ({ kind: p.kind, line: p.line })),
    tail: tail.entries.map((e) => e.id),
    infoEntries: info?.entryCount,
    readMs,
    baselineKiB: before,
    peakKiB: process.resourceUsage().maxRSS,
  }),
);
