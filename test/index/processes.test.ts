/**
 * Several real processes on one folder (children run the built package: `npm run build` first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';

const INDEX = '.sessionlog-index.json';

function header(id: string): string {
  return `${JSON.stringify({ type: 'session', version: 1, id, createdAt: new Date().toISOString() })}\n`;
}

describe('several processes on one folder', () => {
  it('two watching processes creating sessions both converge on all of them, and so does a third', async () => {
    const dir = tempDir();
    const a = startChild('index-creator.mjs', [dir, 'alpha', '100', '200']);
    const b = startChild('index-creator.mjs', [dir, 'beta', '100', '200']);
    const [lineA, lineB] = await Promise.all([a.line(/^saw /), b.line(/^saw /)]);
    expect(lineA).toMatch(/^saw 200 complete 200/);
    expect(lineB).toMatch(/^saw 200 complete 200/);
    expect((await a.done).code).toBe(0);
    expect((await b.done).code).toBe(0);
    // Both wrote the index; whichever won, it never makes a third process list anything wrongly.
    JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8'));
    const store = await openStore({ dir });
    const { sessions } = await store.list({ limit: 1000 });
    expect(sessions).toHaveLength(200);
    expect(sessions.every((s) => s.entryCount === 2 && s.problems === 0)).toBe(true);
    await store.close();
  });

  it('index writes racing from three processes never leave a torn index', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    for (let i = 0; i < 50; i++) {
      const { id } = await store.create({ title: `s${i}` });
      await store.append(id, { role: 'user', content: 'x'.repeat(i * 50) });
    }
    await store.list();
    await store.close();
    const children = [startChild('index-reindexer.mjs', [dir, '30']), startChild('index-reindexer.mjs', [dir, '30'])];
    let running = true;
    void Promise.all(children.map((child) => child.done)).then(() => {
      running = false;
    });
    let reads = 0;
    let torn = 0;
    while (running) {
      try {
        const doc = JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8'));
        if (doc.sessions.length !== 50) torn++;
      } catch {
        torn++;
      }
      reads++;
      // A third writer, in this process.
      if (reads % 20 === 0) {
        const third = await openStore({ dir });
        await third.reindex();
        await third.close();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const child of children) expect((await child.done).code).toBe(0);
    expect(reads).toBeGreaterThan(10);
    expect(torn).toBe(0);
    const check = await openStore({ dir });
    expect((await check.list({ limit: 100 })).sessions).toHaveLength(50);
    await check.close();
  });

  it('a watcher starved of events (stopped while 9,000 files appear: inotify queue overflow) is healed by the reconcile', async () => {
    const dir = tempDir();
    const watcher = startChild('index-watcher.mjs', [dir, '1000']);
    try {
      await watcher.line(/^census 0 0/);
      const pid = watcher.process.pid as number;
      process.kill(pid, 'SIGSTOP');
      // Two inotify events per file (create, modify): 18,000 > max_queued_events (16,384), so
      // the kernel drops the rest and libuv says nothing.
      for (let i = 0; i < 9000; i++) fs.writeFileSync(path.join(dir, `s${String(i).padStart(5, '0')}.jsonl`), header(`s${String(i).padStart(5, '0')}`));
      const resumed = Date.now();
      process.kill(pid, 'SIGCONT');
      const line = await watcher.line(/^census 9000 0 /, 20_000);
      const at = Number(/at (\d+)/.exec(line)?.[1]);
      // The reconcile runs every second; reading 9,000 new files takes a few more.
      expect(at - resumed).toBeLessThan(15_000);
    } finally {
      watcher.process.kill('SIGCONT');
      watcher.process.kill('SIGTERM');
      await watcher.done;
    }
  });
});
