// Creates a session and flushes three batches of 20 entries, for syscall tracing.
import { openStore } from 'sessionlog';

const [dir, durability] = process.argv.slice(2);
const store = await openStore({ dir, durability, flush: { maxEntries: 1000, intervalMs: 3_600_000 } });
await store.create({ id: 'traced' });
for (let batch = 0; batch < 3; batch++) {
  await store.append('traced', Array.from({ length: 20 }, (_, n) => ({ role: 'user', content: `${batch}:${n} ${'x'.repeat(n * 500)}` })));
  await store.flush('traced');
}
await store.close();
console.log('done');
