#!/usr/bin/env node
// Embeddings and artifacts figures for docs/performance.md (part of `npm run bench`):
// - search top-10 over 100,000 × 384 vectors through `store.embeddings.search`, against a tight
//   Float32Array loop over the same unit vectors in the same run (target: ≤ 1.5×);
// - an approximate index (usearch, HNSW) over the same vectors: build time, query time, recall@10
//   against the exact answer (target ≥ 0.95), to decide where it would pay;
// - loading the vectors in a fresh store, and the process's RSS with them loaded;
// - artifact put / get of 1 MB and 100 MB against copying / reading the file.
//
//   npm run build && node bench/embeddings.mjs [vectors=100000] [quick: artifacts of 1 and 4 MB]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { openStore } from '../dist/index.js';

const N = Number(process.argv[2] ?? 100_000);
const DIMS = 384;
const QUERIES = 20;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-embeddings-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const row = (figure, value, target = '', pass = undefined) => rows.push({ figure, value, target, pass });

// Clustered data, as real embeddings are (random vectors would make any ANN look worse than it is).
let seed = 42;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
const CENTERS = 200;
const centers = Float32Array.from({ length: CENTERS * DIMS }, random);
const vectorNear = (c) => Float32Array.from({ length: DIMS }, (_, j) => centers[c * DIMS + j] + random() * 0.8);
const vectors = Array.from({ length: N }, (_, i) => vectorNear((i * 7919) % CENTERS));
const queries = Array.from({ length: QUERIES }, (_, k) => vectorNear(k % CENTERS));

// Write them through the store.
const dir = path.join(root, 'store');
const writer = await openStore({ dir });
await writer.create({ id: 'bench' });
let t0 = performance.now();
for (let at = 0; at < N; at += 5000) {
  await writer.embeddings.upsertMany(vectors.slice(at, at + 5000).map((vector, i) => ({ id: `v${at + i}`, sessionId: 'bench', vector })));
}
const upsertMs = performance.now() - t0;
await writer.close();
row(`upsert ${N.toLocaleString('en')} × ${DIMS} (batches of 5,000)`, `${((upsertMs / N) * 1000).toFixed(1)} µs per vector`);
row('file size', `${(fs.statSync(path.join(dir, '.embeddings', 'vectors.bin')).size / 1e6).toFixed(1)} MB (${(N * DIMS * 4 / 1e6).toFixed(1)} MB of float32)`);

// Load in a fresh store: the first call replays the file.
const rssBefore = process.memoryUsage().rss;
const store = await openStore({ dir });
t0 = performance.now();
await store.embeddings.count();
const loadMs = performance.now() - t0;
const rssLoaded = process.memoryUsage().rss;
// Its floor: read the file whole and copy the float32s into one array.
t0 = performance.now();
{
  const file = fs.readFileSync(path.join(dir, '.embeddings', 'vectors.bin'));
  new Uint8Array(new Float32Array(N * DIMS).buffer).set(file.subarray(0, N * DIMS * 4));
}
const loadFloorMs = performance.now() - t0;
row('load in a fresh store (first call)', `${loadMs.toFixed(0)} ms vs readFileSync + one copy ${loadFloorMs.toFixed(0)} ms = ${(loadMs / loadFloorMs).toFixed(2)}×`);
row(`RSS with ${N.toLocaleString('en')} vectors loaded`, `${((rssLoaded - rssBefore) / 1e6).toFixed(0)} MB more (${(N * DIMS * 4 / 1e6).toFixed(0)} MB of float32)`);

// The floor: a tight loop over the same unit vectors in one Float32Array, keeping the top 10.
const unit = new Float32Array(N * DIMS);
vectors.forEach((v, i) => {
  let s = 0;
  for (const x of v) s += x * x;
  const k = 1 / Math.sqrt(s);
  for (let j = 0; j < DIMS; j++) unit[i * DIMS + j] = v[j] * k;
});
function floorSearch(q) {
  let s = 0;
  for (const x of q) s += x * x;
  const qn = q.map((x) => x / Math.sqrt(s));
  const best = [];
  for (let r = 0, o = 0; r < N; r++, o += DIMS) {
    let dot = 0;
    for (let j = 0; j < DIMS; j++) dot += unit[o + j] * qn[j];
    if (best.length < 10 || dot > best[9].score) {
      best.push({ row: r, score: dot });
      best.sort((a, b) => b.score - a.score);
      if (best.length > 10) best.pop();
    }
  }
  return best;
}
const exact = [];
const ours = [];
const floor = [];
for (let round = 0; round < 2; round++) {
  for (const q of queries) {
    t0 = performance.now();
    const hits = await store.embeddings.search(q, { limit: 10 });
    ours.push(performance.now() - t0);
    t0 = performance.now();
    const f = floorSearch(q);
    floor.push(performance.now() - t0);
    if (round === 0) exact.push(f.map((b) => `v${b.row}`));
    if (round === 0 && hits.map((h) => h.id).join() !== f.map((b) => `v${b.row}`).join()) console.error('exact search disagrees with the floor');
  }
}
const ratio = median(ours) / median(floor);
row(`search top-10 over ${N.toLocaleString('en')} × ${DIMS}, exact (median of ${ours.length})`, `${median(ours).toFixed(1)} ms vs floor ${median(floor).toFixed(1)} ms = ${ratio.toFixed(2)}×`, '≤ 1.5×', ratio <= 1.5);
const filtered = [];
for (const q of queries) {
  t0 = performance.now();
  await store.embeddings.search(q, { limit: 10, sessionId: 'bench' });
  filtered.push(performance.now() - t0);
}
row('same, filtered by session (every vector in it)', `${median(filtered).toFixed(1)} ms`);

// The approximate index, measured against the exact answers.
try {
  const { Index } = await import('usearch');
  t0 = performance.now();
  const index = new Index({ dimensions: DIMS, metric: 'cos', connectivity: 16, quantization: 'f32', expansion_add: 128, expansion_search: 160 });
  index.add(BigUint64Array.from({ length: N }, (_, i) => BigInt(i)), unit);
  const buildMs = performance.now() - t0;
  const annMs = [];
  let recall = 0;
  queries.forEach((q, k) => {
    t0 = performance.now();
    const found = index.search(q, 10);
    annMs.push(performance.now() - t0);
    const got = new Set([...found.keys].map((key) => `v${key}`));
    recall += exact[k].filter((id) => got.has(id)).length / 10;
  });
  recall /= queries.length;
  const speedup = median(ours) / median(annMs);
  row('usearch HNSW (M 16, ef 128/160): build', `${(buildMs / 1000).toFixed(1)} s (the event loop blocked throughout)`);
  row('usearch HNSW: search top-10, recall@10', `${median(annMs).toFixed(2)} ms, ${speedup.toFixed(0)}× faster, recall ${recall.toFixed(3)}`, 'recall ≥ 0.95', recall >= 0.95);
  row('searches before the build pays for itself', `${Math.ceil(buildMs / (median(ours) - median(annMs))).toLocaleString('en')}`);
} catch (err) {
  row('usearch', `not measured: ${err.message}`);
}
await store.close();

// Artifacts against copying and reading the file.
const art = await openStore({ dir: path.join(root, 'art') });
await art.create({ id: 'a' });
for (const mb of process.argv[3] === 'quick' ? [1, 4] : [1, 100]) {
  const source = path.join(root, `blob-${mb}`);
  const bytes = Buffer.alloc(mb * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
  fs.writeFileSync(source, bytes);
  const puts = [];
  const copies = [];
  const streamCopies = [];
  const gets = [];
  const reads = [];
  for (let round = 0; round < 3; round++) {
    bytes.writeUInt32LE(round + 1, 0); // new bytes each round: a put that stores, not one that finds them there
    fs.writeFileSync(source, bytes);
    t0 = performance.now();
    const { ref } = await art.artifacts.put('a', fs.createReadStream(source));
    puts.push(performance.now() - t0);
    t0 = performance.now();
    fs.copyFileSync(source, `${source}.copy${round}`);
    copies.push(performance.now() - t0);
    t0 = performance.now();
    await pipeline(fs.createReadStream(source), fs.createWriteStream(`${source}.stream${round}`));
    streamCopies.push(performance.now() - t0);
    t0 = performance.now();
    await art.artifacts.get(ref);
    gets.push(performance.now() - t0);
    t0 = performance.now();
    fs.readFileSync(source);
    reads.push(performance.now() - t0);
  }
  row(`artifact put ${mb} MB (a file stream, hashed as written)`, `${median(puts).toFixed(1)} ms vs copyFile ${median(copies).toFixed(1)} ms = ${(median(puts) / median(copies)).toFixed(2)}×, vs a stream copy ${median(streamCopies).toFixed(1)} ms = ${(median(puts) / median(streamCopies)).toFixed(2)}×`);
  row(`artifact get ${mb} MB`, `${median(gets).toFixed(1)} ms vs readFile ${median(reads).toFixed(1)} ms = ${(median(gets) / median(reads)).toFixed(2)}×`);
}
await art.close();

console.log(`# embeddings and artifacts: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`);
console.log('| figure | value | target | |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.figure} | ${r.value} | ${r.target} | ${r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL'} |`);
fs.rmSync(root, { recursive: true, force: true });
if (rows.some((r) => r.pass === false)) process.exitCode = 1;
