/**
 * Reads from the end of a large session: `read(id, { tail })` and `read(id, { fromCompaction })`
 * against the known-offset floor (open, one pread from the offset of the first wanted line to the
 * end, split, JSON.parse per line, close). The four cases alternate, after a warm-up.
 * Usage: node --expose-gc bench/cases/tail.mjs '{...}'
 *
 * Arguments: dir, id, tail (how many entries), tailOffset and compactionOffset (byte offsets of
 * the first wanted line, found by the runner), warmup, iterations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from 'sessionlog';
import { args, report } from '../lib/child.mjs';

const options = args();
const file = path.join(options.dir, `${options.id}.jsonl`);

function floor(offset) {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const data = Buffer.allocUnsafe(size - offset);
    const n = fs.readSync(fd, data, 0, data.length, offset);
    const out = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl === -1 || nl >= n) break;
      out.push(JSON.parse(data.toString('utf8', start, nl)));
      start = nl + 1;
    }
    return out.length;
  } finally {
    fs.closeSync(fd);
  }
}

const store = await openStore({ dir: options.dir, flushOnExit: false });
const cases = {
  'tail-floor': async () => floor(options.tailOffset),
  tail: async () => (await store.read(options.id, { tail: options.tail })).entries.length,
  'compaction-floor': async () => floor(options.compactionOffset),
  compaction: async () => (await store.read(options.id, { fromCompaction: true })).entries.length,
};
const names = Object.keys(cases);
const times = Object.fromEntries(names.map((name) => [name, []]));
const counts = {};
for (let i = 0; i < options.warmup + options.iterations; i++) {
  // Rotate the order so no case always runs right after the same neighbour.
  for (let k = 0; k < names.length; k++) {
    const name = names[(i + k) % names.length];
    const start = performance.now();
    counts[name] = await cases[name]();
    if (i >= options.warmup) times[name].push(performance.now() - start);
  }
}
await store.close();
if (counts.tail !== counts['tail-floor'] || counts.compaction !== counts['compaction-floor']) {
  throw new Error(`entry counts differ: ${JSON.stringify(counts)}`);
}
report({ times, counts });
