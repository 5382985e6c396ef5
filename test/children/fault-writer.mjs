// Appends batches and flushes (or syncs) each, reporting every outcome as a JSON line, so the
// parent can run it under injected faults and compare what was acknowledged with the file.
import { openStore } from 'sessionlog';

const [dir, id, mode = 'flush', batchesText = '12', sizeText = '200'] = process.argv.slice(2);
const batches = Number(batchesText);
const size = Number(sizeText);
const store = await openStore({ dir, flush: { maxEntries: 1_000_000, intervalMs: 3_600_000 } });
const report = (value) => console.log(JSON.stringify(value));
const started = [];
for (let batch = 0; batch < batches; batch++) {
  const entries = [0, 1, 2].map((n) => ({ id: `b${batch}-${n}`, role: 'user', content: `${batch}/${n} ${'z'.repeat(size)}` }));
  try {
    await store.append(id, entries);
  } catch (err) {
    // The documented recovery from a sticky error: flush() retries (and clears it on success).
    report({ batch, append: err.code, errno: err.cause?.code });
    try {
      await store.flush(id);
      await store.append(id, entries);
    } catch (again) {
      report({ batch, append: again.code, errno: again.cause?.code });
      continue;
    }
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const t0 = performance.now();
    try {
      await (mode === 'sync' ? store.sync(id) : store.flush(id));
      started.push(performance.now() - t0);
      report({ batch, ack: entries.map((e) => e.id), attempt });
      break;
    } catch (err) {
      report({ batch, error: err.code, errno: err.cause?.code, attempt, message: err.message });
    }
  }
}
report({ latencies: started });
console.log('done');
