/**
 * Whole-session reads in one process, the floor and the store alternating (which one goes first
 * alternates too), a full GC before each. Usage: node --expose-gc bench/cases/read.mjs '{...}'
 *
 * Arguments: dir (the store folder), id (a session in it), iterations.
 * The floor: one readFileSync, split on the Buffer, JSON.parse per line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from 'sessionlog';
import { args, profiled, report, settle } from '../lib/child.mjs';

const options = args();
const file = path.join(options.dir, `${options.id}.jsonl`);

function floor() {
  const data = fs.readFileSync(file);
  const out = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl === -1) break;
    if (nl > start) out.push(JSON.parse(data.toString('utf8', start, nl)));
    start = nl + 1;
  }
  return out.length - 1; // without the header
}

const store = await openStore({ dir: options.dir, flushOnExit: false });
const cases = {
  floor: async () => floor(),
  store: async () => {
    const { entries, problems } = await store.read(options.id);
    if (problems.length > 0) throw new Error(`unexpected problems: ${JSON.stringify(problems.slice(0, 3))}`);
    return entries.length;
  },
};

const times = { floor: [], store: [] };
const counts = {};
for (let i = 0; i < options.iterations; i++) {
  const order = i % 2 === 0 ? ['floor', 'store'] : ['store', 'floor'];
  for (const name of order) {
    settle();
    const start = performance.now();
    counts[name] = await (name === 'store' ? profiled(cases[name]) : cases[name]());
    times[name].push(performance.now() - start);
  }
}
await store.close();
if (counts.floor !== counts.store) throw new Error(`floor read ${counts.floor} entries, the store ${counts.store}`);
report({ times, entries: counts.store, bytes: fs.statSync(file).size });
