// Appends entries forever with small thresholds; after each flush() resolves it records the ids
// it acknowledged in an ack file (writeSync: the page cache survives the SIGKILL that ends it).
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, id, ackFile, seedText] = process.argv.slice(2);
let seed = Number(seedText) >>> 0;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
};
const store = await openStore({ dir, flush: { maxEntries: 7, maxBytes: 64 * 1024, intervalMs: 5 } });
const ack = fs.openSync(ackFile, 'a');
console.log('ready');
for (let n = 0; ; n++) {
  const batch = [];
  const count = 1 + Math.floor(random() * 5);
  for (let i = 0; i < count; i++) {
    // Sizes from 50 B to ~200 KB so some writes are large enough to be torn by the kill.
    const size = Math.floor(50 * 4000 ** random());
    batch.push({ id: `e-${n}-${i}`, role: 'user', content: 'x'.repeat(size) });
  }
  await store.append(id, batch);
  if (random() < 0.5) {
    await store.flush(id);
    fs.writeSync(ack, batch.map((entry) => entry.id).join('\n') + '\n');
  }
}
