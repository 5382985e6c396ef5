/** The recent-lines window: bounded, in order, byte-exact across compactions and growth. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { RecentLines, WindowBudget } from '../../src/file/session/recent.js';
import { rng } from '../helpers/transcripts.js';
import { tempDir } from '../helpers/tmp.js';

test('keeps the newest lines within its caps, byte-exact, however batches arrive, and gives back only buffers it no longer needs', () => {
  const random = rng(7);
  // A buffer given back is overwritten at once, as the writer's next batch would: a kept line in it would show.
  let released = 0;
  const recent = new RecentLines(50, 20_000, (buffer) => {
    released++;
    buffer.fill(0x58);
  });
  const all: { id: string; line: string }[] = [];
  for (let batch = 0; batch < 200; batch++) {
    const lines: string[] = [];
    const ids: (string | undefined)[] = [];
    for (let i = 0, n = 1 + Math.floor(random() * 8); i < n; i++) {
      const id = `e${all.length}`;
      // Some lines without an id (not kept), some long, some non-Latin-1.
      const text = 'ж✓'.repeat(Math.floor(random() * 400)) + 'x'.repeat(Math.floor(random() * 3000));
      const line = `{"id":"${id}","text":"${text}"}\n`;
      lines.push(line);
      const keep = random() > 0.1;
      ids.push(keep ? id : undefined);
      if (keep) all.push({ id, line });
    }
    const body = Buffer.from(lines.join(''));
    const ends: number[] = [];
    let at = 0;
    for (const line of lines) ends.push((at += Buffer.byteLength(line)));
    recent.add(ids, body, ends);
    expect(recent.last?.id).toBe(all.at(-1)?.id);
    expect(recent.last?.line.toString()).toBe(all.at(-1)?.line);
  }
  // Against an empty file every kept line is missing: they come back oldest first, within the caps.
  const file = path.join(tempDir(), 'empty.jsonl');
  fs.writeFileSync(file, '');
  const fd = fs.openSync(file, 'r');
  const missing = recent.missingFrom(fd, 0);
  fs.closeSync(fd);
  expect(missing.length).toBeGreaterThan(0);
  expect(missing.length).toBeLessThanOrEqual(50);
  expect(missing.reduce((sum, item) => sum + item.line.length, 0)).toBeLessThanOrEqual(20_000);
  const expected = all.slice(-missing.length);
  expect(missing.map((item) => item.id)).toEqual(expected.map((item) => item.id));
  expect(missing.map((item) => item.line.toString())).toEqual(expected.map((item) => item.line));
  expect(released).toBeGreaterThan(100);
});

test("a store's windows share one cap: the least recently written ones are dropped whole, and a window that leaves frees its share", () => {
  const budget = new WindowBudget(10_000);
  const released: string[] = [];
  const windows = ['a', 'b', 'c'].map((name) => new RecentLines(1000, 8000, () => released.push(name), budget));
  const [a, b, c] = windows as [RecentLines, RecentLines, RecentLines];
  const write = (window: RecentLines, id: string, bytes: number): void => window.add([id], Buffer.alloc(bytes, 0x78), [bytes]);
  write(a, 'a1', 3000);
  write(b, 'b1', 3000);
  write(a, 'a2', 3000);
  expect(budget.bytes).toBe(9000);
  // Over the cap: b, written to least recently, goes whole; a, written since, keeps its lines.
  write(c, 'c1', 3000);
  expect([a.bytes, b.bytes, c.bytes, budget.bytes]).toEqual([6000, 0, 3000, 9000]);
  // Its buffers are not given back as spares: its session may not be written to again.
  expect(released).toEqual([]);
  expect(b.last).toBeUndefined();
  // c keeps only c2 (its own cap, 8,000); a, now the least recent, goes; c, being written to, stays.
  write(c, 'c2', 7000);
  expect([a.bytes, c.bytes]).toEqual([0, 7000]);
  expect(c.last?.id).toBe('c2');
  expect(budget.bytes).toBe(7000);
  // A dropped window written to again counts again; one that leaves takes its bytes along.
  write(b, 'b2', 1000);
  expect(budget.bytes).toBe(8000);
  c.dispose();
  expect(budget.bytes).toBe(1000);
  b.dispose();
  a.dispose();
  expect(budget.bytes).toBe(0);
});
