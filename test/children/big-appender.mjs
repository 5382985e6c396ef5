// One of eight processes appending to one session, with entries of 100 B to 2 MB (log-uniform),
// each carrying the writer's tag and sequence number.
import { openStore } from 'sessionlog';

const [dir, id, tag, countText, seedText] = process.argv.slice(2);
let seed = Number(seedText) >>> 0;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
};
const store = await openStore({ dir, flush: { maxEntries: 4, maxBytes: 4 * 1024 * 1024, intervalMs: 5 } });
for (let seq = 0; seq < Number(countText); seq++) {
  const size = Math.floor(100 * 20000 ** random());
  await store.append(id, { id: `${tag}-${seq}`, role: 'tool', content: tag.repeat(size), metadata: { tag, seq } });
}
await store.close();
console.log('done');
