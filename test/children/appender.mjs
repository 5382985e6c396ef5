// One of several processes appending to the same session: entries carry the writer's tag and a
// sequence number so the parent can check each writer's order.
import { openStore } from 'sessionlog';

const [dir, id, tag, countText] = process.argv.slice(2);
const count = Number(countText);
const store = await openStore({ dir, flush: { maxEntries: 10, intervalMs: 5 } });
for (let seq = 0; seq < count; seq++) {
  await store.append(id, { role: 'user', content: `${tag}:${seq}:${'y'.repeat(seq % 7 === 0 ? 5000 : 40)}`, metadata: { tag, seq } });
}
await store.close();
console.log('done');
