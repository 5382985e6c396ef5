// One machine appending to its copy of a session while it cannot sync (reliability rows G9, I5).
// Its clock may be off by `skewMs`. Entries carry the machine's tag and a sequence number, and one
// bookkeeping update is made halfway, so the parent can check the union and each machine's order.
import { openStore } from 'sessionlog';

const [dir, id, tag, countText, skewText] = process.argv.slice(2);
const count = Number(countText);
const skew = Number(skewText ?? 0);
const store = await openStore({ dir, now: () => Date.now() + skew, flush: { maxEntries: 7, intervalMs: 5 } });
for (let seq = 0; seq < count; seq++) {
  await store.append(id, { role: seq % 2 === 0 ? 'user' : 'assistant', content: `${tag}:${seq}`, metadata: { tag, seq } });
  if (seq === Math.floor(count / 2)) await store.update(id, { metadata: { [`seenOn${tag}`]: seq } });
}
await store.close();
console.log('done');
