#!/usr/bin/env node
// The README's screenshots of the viewer: the list and a session with tool calls, from a copy of
// sample-sessions/, in Debian's Chromium.   npm run build && node scripts/screenshots.mjs
/* global document, window -- the callback of page.evaluate runs in the page */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { openStore } from 'sessionlog';

const { startViewer } = await import('../dist/serve/server.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-shots-'));
fs.cpSync(new URL('../sample-sessions/', import.meta.url), dir, { recursive: true });
const store = await openStore({ dir, watch: true });
const viewer = await startViewer(store);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
const page = await browser.newPage({ viewport: { width: 1100, height: 760 }, colorScheme: 'light' });
await page.goto(viewer.url);
await page.waitForSelector('li.session');
await page.screenshot({ path: 'docs/images/viewer-list.png' });
await page.goto(`${new URL(viewer.url).origin}/#/s/2026-11-02-01-fix-err-require-esm-in-the-build`);
await page.waitForSelector('article.entry');
await page.evaluate(() => {
  for (const d of document.querySelectorAll('details.tool-call, article.tool details')) d.open = true;
  window.scrollTo(0, 0);
});
await page.screenshot({ path: 'docs/images/viewer-session.png' });
await browser.close();
await viewer.close();
await store.close();
fs.rmSync(dir, { recursive: true, force: true });
