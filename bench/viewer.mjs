#!/usr/bin/env node
// Viewer figures for docs/viewer.md, in Debian's Chromium (playwright-core): time until the list
// of 10,000 sessions shows its first page, until a 100 MB session shows its last entries, from an
// append by another process to its display, and the page's weight. Part of `npm run bench`.
//
//   npm run build && node bench/viewer.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { openStore } from 'sessionlog';

const chromiumPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
if (chromiumPath === '') {
  console.log('# viewer figures skipped: chromium is not installed (apt-get install -y chromium)');
  process.exit(0);
}
const { startViewer } = await import('../dist/serve/server.js');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-viewer-bench-'));
/** Entry ids that increase, as the store's own (UUIDv7) do, and sort before them. */
const eid = (n) => `0${String(n).padStart(9, '0')}`;
const header = (id, title) => `${JSON.stringify({ type: 'session', version: 1, id, createdAt: '2026-11-01T00:00:00.000Z', title })}\n`;
const text = 'The build fails on Node 20 because the exports map points at a missing file. '.repeat(12);
const fd = fs.openSync(path.join(root, 'big.jsonl'), 'w');
fs.writeSync(fd, header('big', 'A 100 MB session'));
let n = 0;
for (let written = 0; written < 100 * 1024 * 1024; ) {
  const lines = [];
  for (let i = 0; i < 1000; i++, n++) lines.push(JSON.stringify({ type: 'message', id: eid(n), ts: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(), role: n % 2 ? 'assistant' : 'user', content: `${n} ${text}` }));
  const chunk = `${lines.join('\n')}\n`;
  fs.writeSync(fd, chunk);
  written += chunk.length;
}
fs.closeSync(fd);
for (let i = 0; i < 10_000; i++) {
  const id = `s${String(i).padStart(5, '0')}`;
  fs.writeFileSync(path.join(root, `${id}.jsonl`), `${header(id, `Session ${i}`)}${JSON.stringify({ type: 'message', id: 'm1', ts: new Date(Date.UTC(2026, 10, 5) + i * 1000).toISOString(), role: 'user', content: `hello ${i}` })}\n`);
}

const store = await openStore({ dir: root, watch: true });
await store.list({ limit: 1 }); // the index built once, as a running viewer has it
const viewer = await startViewer(store);
const origin = new URL(viewer.url).origin;
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'] });
const page = await browser.newPage();
let weight;
{
  // What one first visit downloads besides the API's JSON.
  const fresh = await browser.newPage();
  const bodies = [];
  fresh.on('response', (res) => {
    if (!res.url().includes('/api/')) bodies.push(res.body().then((b) => b.length, () => 0));
  });
  await fresh.goto(viewer.url);
  await fresh.waitForSelector('li.session');
  weight = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
  await fresh.close();
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await page.goto(viewer.url);
await page.waitForSelector('li.session');
const list = [];
for (let i = 0; i < 5; i++) {
  const t0 = Date.now();
  await page.goto(`${origin}/?r=${i}#/`);
  await page.waitForSelector('li.session');
  list.push(Date.now() - t0);
}
const big = [];
for (let i = 0; i < 5; i++) {
  const t0 = Date.now();
  await page.goto(`${origin}/?r=b${i}#/s/big`);
  await page.waitForSelector(`#e-${eid(n - 1)}`);
  big.push(Date.now() - t0);
}
const other = await openStore({ dir: root });
const live = [];
for (let i = 0; i < 10; i++) {
  const t0 = Date.now();
  await other.append('big', { role: 'assistant', content: `live ${i}` });
  await other.flush();
  await page.waitForSelector(`text=live ${i}`, { timeout: 10_000 });
  live.push(Date.now() - t0);
}
await other.close();
const firstPage = (await (await page.request.get(`${origin}/api/sessions?limit=100`)).body()).length;

console.log(`# viewer: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, ${(await browser.version())}`);
console.log('| figure | median |');
console.log('|---|---:|');
console.log(`| list of 10,000 sessions: navigation to first page shown | ${median(list)} ms |`);
console.log(`| 100 MB session (${n.toLocaleString('en')} entries): navigation to its last entries shown | ${median(big)} ms |`);
console.log(`| append by another process to its display (watcher + SSE + fetch + render) | ${median(live)} ms (max ${Math.max(...live)}) |`);
console.log(`| page weight (HTML, script, style, icon) | ${(weight / 1024).toFixed(1)} kB (the first API page of 100 sessions: ${(firstPage / 1024).toFixed(1)} kB) |`);
await browser.close();
await viewer.close();
await store.close();
fs.rmSync(root, { recursive: true, force: true });
