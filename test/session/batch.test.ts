/** The batch buffer: lines encoded once, and what a taken batch holds on to. */
import { expect, test } from 'vitest';
import { BatchBuffer } from '../../src/file/session/batch.js';

test('a small batch is a copy of its own, and the next batch reuses the buffer without touching it', () => {
  const pending = new BatchBuffer();
  const taken = [];
  for (let i = 0; i < 1000; i++) {
    pending.push(`{"id":"e${i}","text":"${'ж'.repeat(i % 7)}${'x'.repeat(200)}"}`, `e${i}`);
    taken.push(pending.take());
  }
  // One line a flush (a chat's turn): each batch keeps its own bytes, not a 64 KiB buffer.
  const held = taken.reduce((sum, batch) => sum + batch.buffer.length, 0);
  const lines = taken.reduce((sum, batch) => sum + batch.body.length, 0);
  expect(held).toBe(lines);
  // Later batches, written into the reused buffer, left every earlier one intact.
  taken.forEach((batch, i) => {
    expect(batch.body.toString()).toBe(`{"id":"e${i}","text":"${'ж'.repeat(i % 7)}${'x'.repeat(200)}"}\n`);
    expect(batch.ends).toEqual([batch.body.length]);
    expect(batch.ids).toEqual([`e${i}`]);
  });
});

test('a batch that fills its buffer takes the buffer itself (no copy), and the next batch gets another', () => {
  const pending = new BatchBuffer();
  const line = `{"text":"${'y'.repeat(30_000)}"}`;
  pending.push(line, 'a');
  pending.push(line, 'b');
  const first = pending.take();
  expect(first.buffer.length).toBeGreaterThan(first.body.length);
  expect(first.body.buffer).toBe(first.buffer.buffer);
  pending.push(line, 'c');
  const second = pending.take();
  expect(second.buffer.buffer).not.toBe(first.buffer.buffer);
  expect(first.body.toString()).toBe(`${line}\n${line}\n`);
  expect(second.body.toString()).toBe(`${line}\n`);
});
