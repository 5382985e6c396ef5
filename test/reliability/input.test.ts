/** Rows D7, D8, D10, D16, D17 (D1–D6, D9, D11–D15 are in test/core/damage.test.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { runChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { figure, FULL, scale } from './matrix.js';

const header = (id: string) => `${JSON.stringify({ type: 'session', version: 1, id, createdAt: '2026-01-01T00:00:00.000Z' })}\n`;
const line = (id: string, content: string) => `${JSON.stringify({ type: 'message', id, ts: '2026-01-01T00:00:01.000Z', role: 'user', content })}\n`;

/** What test/children/read-rss.mjs prints. */
interface ReadRss {
  ids: string[];
  problems: { kind: string; line: number }[];
  tail: string[];
  infoEntries: number;
  readMs: number;
  baselineKiB: number;
  peakKiB: number;
}

describe('D7 a 100 MB line in the middle of a session', () => {
  it('is reported as oversize and skipped without being loaded; the lines around it are read', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.jsonl');
    const fd = fs.openSync(file, 'w', 0o600);
    fs.writeSync(fd, header('big') + line('before', 'a'));
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    fs.writeSync(fd, '{"type":"message","role":"tool","content":"');
    for (let i = 0; i < 100; i++) fs.writeSync(fd, chunk);
    fs.writeSync(fd, `"}\n${line('after', 'b')}`);
    fs.closeSync(fd);
    const result = await runChild('read-rss.mjs', [dir, 'big']);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as ReadRss;
    expect(out).toMatchObject({ ids: ['before', 'after'], problems: [{ kind: 'oversize', line: 3 }], tail: ['before', 'after'], infoEntries: 2 });
    const growthMiB = (out.peakKiB - out.baselineKiB) / 1024;
    // A line up to the cap must be held to be parsed, so memory is bounded by the cap, not the line.
    expect(growthMiB).toBeLessThan(300);
    figure('D7', `100 MiB line (cap 64 MiB): reported oversize, lines after it read, read ${Math.round(out.readMs)} ms, peak RSS growth ${growthMiB.toFixed(1)} MiB (bounded by the cap; budget 300 MiB)`);
  });
});

describe('D8 a line longer than V8\'s string limit (600 M characters at full scale; at CI scale 6 MiB over a 1 MiB cap)', () => {
  // 600 M characters > buffer.constants.MAX_STRING_LENGTH (536,870,888): decoding it would throw.
  // At CI scale the same code runs on a 6 MiB line over a 1 MiB maxEntryBytes.
  const lineBytes = FULL ? 600_000_000 : 6 * 1024 * 1024;
  const maxEntryBytes = FULL ? undefined : 1024 * 1024;
  const cap = maxEntryBytes ?? 64 * 1024 * 1024;

  it(`is reported as oversize by its byte length, never decoded; the lines after it are read (${lineBytes} bytes, cap ${cap})`, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'huge.jsonl');
    const fd = fs.openSync(file, 'w', 0o600);
    fs.writeSync(fd, header('huge') + line('before', 'a'));
    const prefix = '{"type":"message","id":"huge","role":"tool","content":"';
    fs.writeSync(fd, prefix);
    const chunk = Buffer.alloc(8 * 1024 * 1024, 'x');
    for (let left = lineBytes - prefix.length - 2; left > 0; left -= chunk.length) fs.writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    fs.writeSync(fd, `"}\n${line('after', 'b')}`);
    fs.closeSync(fd);
    expect(fs.statSync(file).size).toBeGreaterThan(lineBytes);
    const result = await runChild('read-rss.mjs', [dir, 'huge', String(cap)]);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as ReadRss;
    expect(out.ids).toEqual(['before', 'after']);
    expect(out.problems).toEqual([{ kind: 'oversize', line: 3 }]);
    expect(out.tail).toEqual(['before', 'after']);
    expect(out.infoEntries).toBe(2);
    const growthMiB = (out.peakKiB - out.baselineKiB) / 1024;
    // Bounded by the cap (a line up to it is held to be parsed), not by the line.
    expect(growthMiB).toBeLessThan(cap / 1024 / 1024 + 250);
    figure('D8', `${lineBytes} B line (${FULL ? 'above V8\'s string limit of 536,870,888' : 'CI scale: the same path over a lowered cap'}; cap ${cap / 1024 / 1024} MiB): crashes 0, reported oversize by byte length, line after it read, read ${Math.round(out.readMs)} ms, peak RSS growth ${growthMiB.toFixed(1)} MiB`);
  });
});

describe('D10 lone UTF-16 surrogates', () => {
  it('are stored as JSON escapes and read back exactly', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    const half = '🔥'.slice(0, 1);
    await store.append('s', { id: 'half', role: 'user', content: `cut ${half}` });
    await store.flush('s');
    expect(fs.readFileSync(path.join(dir, 's.jsonl'), 'utf8')).toContain('\\ud83d');
    expect((await store.read('s')).entries[0]?.content).toBe(`cut ${half}`);
    await store.close();
    figure('D10', 'lone surrogate: written as a JSON escape (valid UTF-8 on disk), read back identical; documented policy');
  });
});

describe('D16 deep nesting', () => {
  it('refuses an entry too deep to encode with ERR_INVALID_ENTRY, and reads a deep line from disk without crashing', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    await expect(store.append('s', { role: 'user', content: 'x', metadata: { deep } })).rejects.toMatchObject({ code: 'ERR_INVALID_ENTRY' });
    await store.flush('s');
    fs.appendFileSync(path.join(dir, 's.jsonl'), `{"type":"message","id":"deep","role":"user","content":"x","metadata":{"deep":${'['.repeat(200_000)}1${']'.repeat(200_000)}}}\n${line('after', 'y')}`);
    const { entries, problems } = await store.read('s');
    expect(entries.map((e) => e.id)).toEqual(['deep', 'after']);
    expect(problems).toEqual([]);
    await store.close();
    figure('D16', '200 000-deep nesting: append refused with ERR_INVALID_ENTRY (no RangeError escapes), the same line on disk read; crashes 0');
  });
});

describe('D17 very many small records', () => {
  const count = scale(100_000, 1_000_000);

  it(`pages and tails ${count} records without reading the whole file`, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'many.jsonl');
    const fd = fs.openSync(file, 'w', 0o600);
    fs.writeSync(fd, header('many'));
    for (let start = 0; start < count; start += 10_000) {
      let text = '';
      for (let n = start; n < Math.min(count, start + 10_000); n++) text += line(`m${n}`, `record ${n}`);
      fs.writeSync(fd, text);
    }
    fs.closeSync(fd);
    const store = await openStore({ dir });
    const time = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
      const t0 = performance.now();
      const value = await fn();
      return [value, performance.now() - t0];
    };
    const [first, firstMs] = await time(() => store.read('many', { limit: 50 }));
    const [tail, tailMs] = await time(() => store.read('many', { tail: 50 }));
    const [all, allMs] = await time(() => store.read('many'));
    expect(first.entries.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, n) => `m${n}`));
    expect(first.hasMore).toBe(true);
    expect(tail.entries.at(-1)?.id).toBe(`m${count - 1}`);
    expect(all.entries).toHaveLength(count);
    await store.close();
    figure('D17', `${count} records (${(fs.statSync(file).size / 1048576).toFixed(0)} MiB): first page of 50 ${firstMs.toFixed(1)} ms, tail 50 ${tailMs.toFixed(1)} ms, whole read ${Math.round(allMs)} ms`);
  });
});
