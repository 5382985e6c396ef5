// Appends one huge entry and flushes it with a single write; prints "writing" just before, so
// the parent can SIGKILL it mid-write.
import { openStore } from 'sessionlog';

const [dir, id, mbText] = process.argv.slice(2);
const mb = Number(mbText);
const store = await openStore({ dir, maxEntryBytes: (mb + 1) * 1024 * 1024, maxBufferedBytes: (mb + 1) * 1024 * 1024, flush: { maxEntries: 1000, maxBytes: 1 << 30, intervalMs: 3_600_000 } });
await store.append(id, { id: 'huge', role: 'tool', content: 'h'.repeat(mb * 1024 * 1024) });
console.log('writing');
await store.flush(id);
console.log('written');
setInterval(() => {}, 1000);
