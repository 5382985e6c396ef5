// The viewer at scale, in Chromium: a 100 MB session opens at its end and pages back; a store of
// 10,000 sessions lists its first page and loads the next as the user scrolls.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type FileSessionStore } from '../../src/index.js';
import { startViewer, type Viewer } from '../../src/serve/server.js';
import { CHROMIUM, launchBrowser } from '../helpers/browser.js';

/** Entry ids that increase, as the store's own (UUIDv7) do, and sort before them. */
const eid = (n: number): string => `0${String(n).padStart(9, '0')}`;
const header = (id: string, title: string) => `${JSON.stringify({ type: 'session', version: 1, id, createdAt: '2026-11-01T00:00:00.000Z', title })}\n`;

/** A session file of about `megabytes` MB: messages of ~1 kB, ids 0000000000, 0000000001, … */
function writeBig(dir: string, id: string, megabytes: number): number {
  const fd = fs.openSync(path.join(dir, `${id}.jsonl`), 'w', 0o600);
  fs.writeSync(fd, header(id, 'A 100 MB session'));
  const text = 'The build fails on Node 20 because the exports map points at a missing file. '.repeat(12);
  let n = 0;
  let written = 0;
  while (written < megabytes * 1024 * 1024) {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++, n++) {
      const ts = new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString();
      lines.push(JSON.stringify({ type: 'message', id: eid(n), ts, role: n % 2 === 0 ? 'user' : 'assistant', content: `${n} ${text}` }));
    }
    const chunk = `${lines.join('\n')}\n`;
    fs.writeSync(fd, chunk);
    written += chunk.length;
  }
  fs.closeSync(fd);
  return n;
}

describe.skipIf(CHROMIUM === '')('the viewer at scale, in Chromium', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-viewer-scale-'));
  let entries: number;
  let store: FileSessionStore;
  let viewer: Viewer;
  let browser: Browser;

  beforeAll(async () => {
    entries = writeBig(dir, 'big', 100);
    for (let i = 0; i < 10_000; i++) {
      const id = `s${String(i).padStart(5, '0')}`;
      fs.writeFileSync(path.join(dir, `${id}.jsonl`), `${header(id, `Session ${i}`)}${JSON.stringify({ type: 'message', id: 'm1', ts: new Date(Date.UTC(2026, 10, 5) + i * 1000).toISOString(), role: 'user', content: `hello ${i}` })}\n`, { mode: 0o600 });
    }
    store = await openStore({ dir, watch: true });
    viewer = await startViewer(store);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await viewer?.close();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens a 100 MB session at its end and pages back', async () => {
    const page = await browser.newPage();
    await page.goto(viewer.url);
    await page.goto(`${new URL(viewer.url).origin}/#/s/big`);
    await page.waitForSelector(`#e-${eid(entries - 1)}`);
    expect(await page.locator('article.entry').count()).toBe(200);
    const earlier = page.locator('button.more');
    expect(await earlier.innerText()).toBe(`${entries - 200} earlier entries`);
    await earlier.click();
    await page.waitForSelector(`#e-${eid(entries - 400)}`);
    expect(await page.locator('article.entry').count()).toBe(400);
    await page.close();
  });

  it('lists 10,000 sessions a page at a time, loading the next on scroll', async () => {
    const page = await browser.newPage();
    await page.goto(viewer.url);
    await page.waitForSelector('li.session');
    expect(await page.locator('li.session').count()).toBe(100);
    await page.locator('button.more').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('li.session').length >= 200);
    // Newest first: the last session created (updated latest) heads the list.
    expect(await page.locator('li.session .title').first().textContent()).toBe('Session 9999');
    await page.close();
  });
});
