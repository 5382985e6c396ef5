// Appends one entry to an existing session and flushes it, printing "ready <pid>" first so the
// parent can find this process (under strace, its write is delayed) and "flushed <id>" after.
import { openStore } from 'sessionlog';

const [dir, id] = process.argv.slice(2);
const store = await openStore({ dir, flushOnExit: false });
console.log(`ready ${process.pid}`);
const entry = await store.append(id, { role: 'assistant', content: 'acknowledged entry' });
await store.flush(id);
console.log(`flushed ${entry.id}`);
await store.close();
