#!/usr/bin/env node
// Listing figures for docs/listing.md: open + first page, next page, memory, inotify watches and
// CPU while a session streams, for N sessions (default 10,000). Not part of `npm test`.
//
//   npm run build && node bench/listing.mjs [sessions=10000] [--compare-watchers]
//
// Each measurement runs in a fresh child process (clean RSS, no warm JIT from a previous phase).
// The files are in the page cache (they were just written): figures are CPU-bound, not disk-bound.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inotifyWatches } from '../test/helpers/inotify.mjs';
import { writeSessions } from './lib/sessions.mjs';

const self = fileURLToPath(import.meta.url);
const INDEX = '.sessionlog-index.json';

if (process.argv[2] === '--phase') {
  await phase(process.argv[3], process.argv[4]);
} else {
  await main();
}

async function main() {
  const count = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 10_000);
  const compare = process.argv.includes('--compare-watchers');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-bench-'));
  try {
    const t0 = performance.now();
    const bytes = writeSessions(dir, count);
    console.log(`# ${count} sessions, ${(bytes / 1e6).toFixed(1)} MB in ${dir} (written in ${ms(performance.now() - t0)})`);
    console.log(`# node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`);
    const once = (name) => JSON.parse(execFileSync(process.execPath, ['--expose-gc', self, '--phase', name, dir], { encoding: 'utf8' }));
    // Three runs per case, the median of each figure (the machine may be shared).
    const run = (name) => {
      const runs = [once(name), once(name), once(name)];
      const median = {};
      for (const key of Object.keys(runs[0])) median[key] = runs.map((r) => r[key]).sort((a, b) => a - b)[1];
      return median;
    };
    const rows = [];
    rows.push(['no index (first open ever: every file read)', run('rebuild')]);
    rows.push(['index present, no watch', run('warm')]);
    rows.push(['index present, watch: true', run('watch')]);
    console.log('\n| case | open + first page (50) | next page | RSS after | heap used | inotify watches |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, r] of rows) {
      console.log(`| ${name} | ${ms(r.firstPage)} | ${ms(r.nextPage)} | ${mb(r.rss)} | ${mb(r.heap)} | ${r.watches} |`);
    }
    const w = rows[2][1];
    console.log(`\nwatch: true — one session streaming (an append every 20 ms for 3 s, then idle): ${ms(w.streamCpu)} CPU in this process over 4.5 s; an append made by another program was listed ${ms(w.lag)} later.`);
    console.log(`watch: true — a periodic reconcile (lstat of every session): ${ms(w.reconcile)}; idle CPU over 2 s: ${ms(w.idleCpu)}.`);
    console.log(`index file: ${mb(fs.statSync(path.join(dir, INDEX)).size)}`);
    if (compare) {
      console.log('\n| watcher | ready | inotify watches | RSS | CPU while one session streams (3 s + 1.5 s) |');
      console.log('|---|---|---|---|---|');
      for (const mode of ['chokidar-default', 'chokidar-raw', 'fs-watch']) {
        const r = run(mode);
        console.log(`| ${mode} | ${ms(r.ready)} | ${r.watches} | ${mb(r.rss)} | ${ms(r.streamCpu)} |`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}


function ms(value) {
  return value === undefined ? '–' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function mb(value) {
  return value === undefined ? '–' : `${(value / 1e6).toFixed(0)} MB`;
}


function cpuMs(since) {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

function sleep(msecs) {
  return new Promise((resolve) => setTimeout(resolve, msecs));
}

async function phase(name, dir) {
  if (name.startsWith('chokidar') || name === 'fs-watch') return compareWatcher(name, dir);
  const { openStore } = await import('sessionlog');
  if (name === 'rebuild') fs.rmSync(path.join(dir, INDEX), { force: true });
  const watch = name === 'watch';
  const t0 = performance.now();
  const store = await openStore({ dir, watch });
  const first = await store.list();
  const firstPage = performance.now() - t0;
  const t1 = performance.now();
  await store.list({ cursor: first.nextCursor });
  const nextPage = performance.now() - t1;
  globalThis.gc?.();
  const result = { firstPage, nextPage, rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, watches: inotifyWatches() };
  if (name === 'warm') {
    // The same again in this process, now warm (compiled code, modules loaded): a long-running agent's second store.
    const t2 = performance.now();
    const again = await openStore({ dir });
    await again.list();
    result.warmFirstPage = performance.now() - t2;
    await again.close();
  }
  if (watch) {
    // One session streaming, written by another "program" (plain appends to its file).
    const file = path.join(dir, 's-000000.jsonl');
    const base = (await store.get('s-000000')).entryCount;
    // Entry ids unique across runs and increasing, as the store's own ids are.
    const runTag = Date.now().toString(36);
    const c0 = process.cpuUsage();
    const end = Date.now() + 3000;
    let n = 0;
    while (Date.now() < end) {
      fs.appendFileSync(file, `${JSON.stringify({ type: 'message', id: `s-000000-x${runTag}-${String(n++).padStart(5, '0')}`, ts: new Date().toISOString(), role: 'assistant', content: 'streaming' })}\n`);
      await sleep(20);
    }
    // One more append after a pause: how long until list() shows it.
    await sleep(500);
    fs.appendFileSync(file, `${JSON.stringify({ type: 'message', id: `s-000000-x${runTag}-${String(n++).padStart(5, '0')}`, ts: new Date().toISOString(), role: 'assistant', content: 'last' })}\n`);
    const lastAppend = performance.now();
    for (;;) {
      const page = await store.list({ limit: 1 });
      if (page.sessions[0]?.id === 's-000000' && page.sessions[0].entryCount === base + n) break;
      if (performance.now() - lastAppend > 10_000) throw new Error('the append never showed in list()');
      await sleep(5);
    }
    result.lag = performance.now() - lastAppend;
    await sleep(1000);
    result.streamCpu = cpuMs(c0);
    const c1 = process.cpuUsage();
    await sleep(2000);
    result.idleCpu = cpuMs(c1);
    // What one periodic reconcile costs: the same pass list() makes without a watcher.
    const probe = await openStore({ dir });
    await probe.list({ limit: 1 });
    const t2 = performance.now();
    await probe.list({ limit: 1 });
    result.reconcile = performance.now() - t2;
    await probe.close();
  }
  await store.close();
  process.stdout.write(JSON.stringify(result));
}

/** The watcher alternatives of docs/listing.md, on the same folder, with no index work at all. */
async function compareWatcher(mode, dir) {
  const t0 = performance.now();
  let close;
  if (mode === 'fs-watch') {
    const watcher = fs.watch(dir, () => {});
    close = async () => watcher.close();
  } else {
    const { watch } = await import('chokidar');
    const options = { ignoreInitial: true, depth: 0, followSymlinks: false };
    if (mode === 'chokidar-raw') options.ignored = (p) => p !== dir;
    const watcher = watch(dir, options);
    watcher.on('all', () => {});
    watcher.on('raw', () => {});
    watcher.on('error', () => {});
    await new Promise((resolve) => watcher.on('ready', resolve));
    close = () => watcher.close();
  }
  const ready = performance.now() - t0;
  const result = { ready, watches: inotifyWatches(), rss: process.memoryUsage().rss };
  const c0 = process.cpuUsage();
  const file = path.join(dir, 's-000001.jsonl');
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    fs.appendFileSync(file, '{"type":"message","role":"user","content":"x"}\n');
    await sleep(20);
  }
  await sleep(1500);
  result.streamCpu = cpuMs(c0);
  await close();
  process.stdout.write(JSON.stringify(result));
}
