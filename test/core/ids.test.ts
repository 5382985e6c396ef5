/** Generated ids: UUIDv7 layout, strictly increasing within a process, no repeats. */
import { expect, test } from 'vitest';
import { uuidv7 } from '../../src/core/ids.js';

const LAYOUT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are UUIDv7 with the timestamp first, increasing and unique, also within one millisecond', () => {
  const now = Date.UTC(2026, 10, 2, 9, 0, 0);
  const ids: string[] = [];
  // 10,000 ids in one millisecond: the 12-bit counter overflows into the next millisecond twice.
  for (let i = 0; i < 10_000; i++) ids.push(uuidv7(now));
  for (let i = 0; i < 10_000; i++) ids.push(uuidv7(now + 10 + Math.floor(i / 100)));
  for (const id of ids) expect(id).toMatch(LAYOUT);
  expect(Number.parseInt(ids[0]!.replaceAll('-', '').slice(0, 12), 16)).toBe(now);
  for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  // The random tails are not constant (the pool is refilled, not reused).
  expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
});
