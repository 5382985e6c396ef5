/** The batch buffer: lines encoded once, never copied to grow, and what a taken batch holds on to. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { type Batch, BatchBuffer } from '../../src/file/session/batch.js';
import { writeAllSync } from '../../src/file/fs/files.js';
import { tempDir } from '../helpers/tmp.js';

const text = (batch: Batch): string => batch.segments.map((segment) => segment.body.toString()).join('');

test('a small batch is a copy of its own, and the next batch reuses the buffer without touching it', () => {
  const pending = new BatchBuffer();
  const taken: Batch[] = [];
  for (let i = 0; i < 1000; i++) {
    pending.push(`{"id":"e${i}","text":"${'ж'.repeat(i % 7)}${'x'.repeat(200)}"}`, `e${i}`);
    taken.push(pending.take());
  }
  // One line a flush (a chat's turn): each batch keeps its own bytes, not a 64 KiB buffer.
  const segments = taken.map((batch) => batch.segments[0]!);
  expect(taken.every((batch) => batch.segments.length === 1)).toBe(true);
  expect(segments.reduce((sum, s) => sum + s.buffer.length, 0)).toBe(segments.reduce((sum, s) => sum + s.body.length, 0));
  // Later batches, written into the reused buffer, left every earlier one intact.
  taken.forEach((batch, i) => {
    expect(text(batch)).toBe(`{"id":"e${i}","text":"${'ж'.repeat(i % 7)}${'x'.repeat(200)}"}\n`);
    expect(batch.segments[0]?.ends).toEqual([batch.bytes]);
    expect(batch.segments[0]?.ids).toEqual([`e${i}`]);
    expect(batch.count).toBe(1);
  });
});

test('a batch that fills its buffer takes the buffer itself (no copy), and the next batch gets another', () => {
  const pending = new BatchBuffer();
  const line = `{"text":"${'y'.repeat(30_000)}"}`;
  pending.push(line, 'a');
  pending.push(line, 'b');
  const first = pending.take().segments[0]!;
  expect(first.buffer.length).toBeGreaterThan(first.body.length);
  expect(first.body.buffer).toBe(first.buffer.buffer);
  pending.push(line, 'c');
  const second = pending.take().segments[0]!;
  expect(second.buffer.buffer).not.toBe(first.buffer.buffer);
  expect(first.body.toString()).toBe(`${line}\n${line}\n`);
  expect(second.body.toString()).toBe(`${line}\n`);
});

test('a line that does not fit starts a new buffer: the full one is kept as it is, never copied into a bigger one', () => {
  const pending = new BatchBuffer();
  const lines = Array.from({ length: 7 }, (_, i) => `{"n":${i},"text":"${'ж'.repeat(4000)}${'z'.repeat(9000)}"}`);
  for (const [i, line] of lines.entries()) pending.push(line, `e${i}`);
  const huge = `{"text":"${'h'.repeat(200_000)}"}`;
  pending.push(huge, 'huge');
  expect(pending.count).toBe(8);
  expect(pending.bytes).toBe([...lines, huge].reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0));
  const batch = pending.take();
  // 17 kB lines: three fit in 64 KiB; the 200 kB line gets a buffer its size.
  expect(batch.segments.map((s) => s.ends.length)).toEqual([3, 3, 1, 1]);
  expect(batch.segments.map((s) => s.buffer.length)).toEqual([65536, 65536, 65536, 200_012]);
  expect(batch.segments.flatMap((s) => s.ids)).toEqual([...lines.map((_, i) => `e${i}`), 'huge']);
  expect(text(batch)).toBe([...lines, huge].map((line) => `${line}\n`).join(''));
  expect(batch.count).toBe(8);
});

test('a batch put back after a failed write comes before the lines buffered since, in order', () => {
  const pending = new BatchBuffer();
  const big = (i: number): string => `{"n":${i},"text":"${'q'.repeat(40_000)}"}`;
  pending.push(big(0), 'a');
  pending.push(big(1), 'b');
  const failed = pending.take();
  expect(failed.segments).toHaveLength(2);
  pending.push('{"n":2}', 'c');
  pending.putBack(failed);
  expect(pending.count).toBe(3);
  expect(pending.body.toString()).toBe(`${big(0)}\n${big(1)}\n{"n":2}\n`);
  const retried = pending.take();
  expect(retried.segments.flatMap((s) => s.ids)).toEqual(['a', 'b', 'c']);
  expect(text(retried)).toBe(`${big(0)}\n${big(1)}\n{"n":2}\n`);
});

test('writeAllSync writes many buffers in order, over more than one writev (at most 1,024 each)', () => {
  const file = path.join(tempDir(), 'out');
  const parts = Array.from({ length: 2500 }, (_, i) => Buffer.from(`${i}\n`));
  const fd = fs.openSync(file, 'a');
  writeAllSync(fd, [Buffer.alloc(0), ...parts, Buffer.alloc(0)]);
  fs.closeSync(fd);
  expect(fs.readFileSync(file, 'utf8')).toBe(parts.join(''));
});
