/**
 * The cost of one flush of 20 entries into a large session and into a small one, alternating in
 * one process after a warm-up: a flush must cost O(batch), not O(file).
 * Usage: node --expose-gc bench/cases/flush.mjs '{...}'
 *
 * Arguments: dir, big and small (session ids), fixture, batch (entries per flush), warmup, iterations.
 * Timed: `store.flush(id)` after `append(id, batch)`; the append only buffers (below maxEntries).
 */
import { performance } from 'node:perf_hooks';
import { openStore } from 'sessionlog';
import { args, loadMessages, report } from '../lib/child.mjs';

const options = args();
const batch = loadMessages(options.fixture, options.batch);
const store = await openStore({ dir: options.dir, flushOnExit: false });
const times = { big: [], small: [] };
for (let i = 0; i < options.warmup + options.iterations; i++) {
  const order = i % 2 === 0 ? ['big', 'small'] : ['small', 'big'];
  for (const which of order) {
    const id = options[which];
    await store.append(id, batch);
    const start = performance.now();
    await store.flush(id);
    if (i >= options.warmup) times[which].push(performance.now() - start);
  }
}
await store.close();
report({ times });
