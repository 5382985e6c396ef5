/**
 * `stream(id)` over a large session: how much the resident set grows above its level before the
 * stream started, sampled every 64 entries. Usage: node --expose-gc bench/cases/stream.mjs '{...}'
 *
 * Arguments: dir, id.
 */
import { performance } from 'node:perf_hooks';
import { openStore } from 'sessionlog';
import { args, report, settle } from '../lib/child.mjs';

const options = args();
const store = await openStore({ dir: options.dir, flushOnExit: false });
settle();
const baseline = process.memoryUsage.rss();
let peak = baseline;
let entries = 0;
const start = performance.now();
for await (const entry of store.stream(options.id)) {
  if (entry.type === undefined) throw new Error('an entry without a type');
  if (++entries % 64 === 0) peak = Math.max(peak, process.memoryUsage.rss());
}
const ms = performance.now() - start;
peak = Math.max(peak, process.memoryUsage.rss());
await store.close();
report({ ms, entries, baselineRss: baseline, peakRss: peak, growth: peak - baseline });
