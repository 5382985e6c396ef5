/** Writers of sessions that went quiet let go of their buffers, and go on working. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { WriterRegistry } from '../../src/file/writers.js';
import { tempDir } from '../helpers/tmp.js';

test('a writer not written to since the last look lets go of its buffers, and the next entries still land', async () => {
  const dir = tempDir();
  const header = (id: string): string => `{"type":"header","v":1,"id":"${id}"}\n`;
  const registry = new WriterRegistry({
    dir, maxEntries: 100, maxBytes: 1 << 20, intervalMs: 60_000, maxBufferedBytes: 8 << 20, durable: false, flushOnExit: false,
    now: Date.now, headerLine: async (id) => header(id), onWritten: () => undefined, onError: () => undefined, onWarning: () => undefined,
  });
  const ids = Array.from({ length: 50 }, (_, i) => `s${i}`);
  for (const id of ids) {
    fs.writeFileSync(path.join(dir, `${id}.jsonl`), header(id));
    registry.adopt(id, header(id));
    (await registry.get(id)).enqueue([`{"id":"${id}-1"}`], [`${id}-1`]);
  }
  await registry.flush(undefined, false);
  // Written to since the last look: kept. Then idle: trimmed, except the one written to again.
  expect(registry.trimIdle()).toBe(0);
  registry.peek('s0')?.enqueue(['{"id":"s0-2"}'], ['s0-2']);
  expect(registry.trimIdle()).toBe(49);
  // An entry still buffered keeps its writer's buffer, whatever the look.
  expect(registry.trimIdle()).toBe(49);
  await registry.flush('s0', false);
  for (const id of ids) (await registry.get(id)).enqueue([`{"id":"${id}-3"}`], [`${id}-3`]);
  await registry.close();
  for (const id of ids) {
    const lines = fs.readFileSync(path.join(dir, `${id}.jsonl`), 'utf8').trim().split('\n').slice(1);
    expect(lines).toEqual(id === 's0' ? ['{"id":"s0-1"}', '{"id":"s0-2"}', '{"id":"s0-3"}'] : [`{"id":"${id}-1"}`, `{"id":"${id}-3"}`]);
  }
});
