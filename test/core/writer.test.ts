import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, type SessionStoreError } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const NEVER = 3_600_000;

function entryLines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function setup(flush: { maxEntries?: number; maxBytes?: number; intervalMs?: number }, extra: { maxBufferedBytes?: number } = {}) {
  const dir = tempDir();
  const store = await openStore({ dir, flush: { maxEntries: 1_000_000, maxBytes: 1 << 30, intervalMs: NEVER, ...flush }, ...extra });
  await store.create({ id: 's' });
  return { dir, store, file: path.join(dir, 's.jsonl') };
}

describe('buffered writes', () => {
  it('writes every byte of multi-byte lines that fill the batch buffer to its edge and past it', async () => {
    // Lines of 1–4-byte characters whose cumulative size crosses the first buffer's 64 KiB at every
    // offset near the edge: a line is measured exactly only when its 3-bytes-a-unit bound does not fit.
    const { store, file } = await setup({});
    const texts: string[] = [];
    const alphabet = ['a', 'ж', '内', '🔧'];
    for (let i = 0; i < 400; i++) {
      const ch = alphabet[i % alphabet.length] as string;
      texts.push(ch.repeat(50 + ((i * 37) % 700)));
    }
    const stored = await store.append('s', texts.map((content, i) => ({ id: `m${i}`, role: 'user' as const, content })));
    await store.flush('s');
    const expected = stored.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    const onDisk = fs.readFileSync(file, 'utf8');
    expect(onDisk.slice(onDisk.indexOf('\n') + 1)).toBe(expected);
    expect(Buffer.byteLength(expected)).toBeGreaterThan(3 * 64 * 1024);
    await store.close();
  });

  it('buffers below the thresholds and flushes at maxEntries as one write', async () => {
    const { store, file } = await setup({ maxEntries: 3 });
    await store.append('s', [{ role: 'user', content: '1' }, { role: 'user', content: '2' }]);
    expect(entryLines(file)).toHaveLength(0);
    await store.append('s', { role: 'user', content: '3' });
    await waitFor('the threshold flush', () => entryLines(file).length === 3);
    await store.close();
  });

  it('flushes at maxBytes', async () => {
    const { store, file } = await setup({ maxBytes: 4096 });
    await store.append('s', { role: 'user', content: 'x'.repeat(1000) });
    expect(entryLines(file)).toHaveLength(0);
    await store.append('s', { role: 'user', content: 'x'.repeat(4000) });
    await waitFor('the byte-threshold flush', () => entryLines(file).length === 2);
    await store.close();
  });

  it('flushes on the interval with no further activity', async () => {
    const { store, file } = await setup({ intervalMs: 30 });
    await store.append('s', { role: 'user', content: 'alone' });
    await waitFor('the timer flush', () => entryLines(file).length === 1);
    await store.close();
  });

  it('flush() resolves only when earlier appends are in the file; sync() too', async () => {
    const { store, file } = await setup({});
    await store.append('s', { role: 'user', content: 'a' });
    await store.flush('s');
    expect(entryLines(file)).toHaveLength(1);
    await store.append('s', { role: 'user', content: 'b' });
    await store.sync();
    expect(entryLines(file)).toHaveLength(2);
    await store.close();
  });

  it('keeps call order for appends that are not awaited, also while the writer is opening', async () => {
    const dir = tempDir();
    const first = await openStore({ dir });
    await first.create({ id: 's' });
    await first.close();
    const store = await openStore({ dir, flush: { maxEntries: 7 }, maxBufferedBytes: 300 });
    const calls = Array.from({ length: 60 }, (_, n) => store.append('s', { id: `n${n}`, role: 'user', content: 'x'.repeat(n * 3) }));
    await Promise.all(calls);
    await store.flush('s');
    expect(entryLines(path.join(dir, 's.jsonl')).map((e) => e['id'])).toEqual(Array.from({ length: 60 }, (_, n) => `n${n}`));
    await store.close();
  });

  it('slows a producer that outruns the buffer cap instead of growing memory', async () => {
    const { store, file } = await setup({}, { maxBufferedBytes: 2000 });
    for (let n = 0; n < 10; n++) await store.append('s', { role: 'user', content: `${n}${'x'.repeat(700)}` });
    // With the thresholds out of reach, only the buffer cap can have written these.
    expect(entryLines(file).length).toBeGreaterThanOrEqual(7);
    await store.close();
    expect(entryLines(file)).toHaveLength(10);
  });

  it('a failed write is sticky: entries stay buffered, calls reject with a code, the retry writes each entry once', async () => {
    const { dir, store, file } = await setup({});
    const headerLine = fs.readFileSync(file, 'utf8');
    await store.append('s', [{ id: 'a', role: 'user', content: '1' }, { id: 'b', role: 'user', content: '2' }]);
    fs.unlinkSync(file); // the file vanishes under the store (a user, a sync tool)
    const error = (await store.flush('s').catch((err: unknown) => err)) as SessionStoreError;
    expect(error.code).toBe('ERR_SESSION_NOT_FOUND');
    expect(error.message).toContain(file);
    await expect(store.append('s', { id: 'c', role: 'user', content: '3' })).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
    expect(fs.existsSync(file)).toBe(false); // never recreated without its header
    fs.writeFileSync(file, headerLine, { mode: 0o600 });
    await store.flush('s');
    await store.append('s', { id: 'd', role: 'user', content: '4' });
    await store.flush('s');
    expect(entryLines(file).map((e) => e['id'])).toEqual(['a', 'b', 'd']);
    expect(fs.readdirSync(dir)).toEqual(['s.jsonl']);
    await store.close();
  });

  it('reports a failed background flush through writeError and retries it', async () => {
    const { store, file } = await setup({ intervalMs: 20 });
    const headerLine = fs.readFileSync(file, 'utf8');
    const errors: string[] = [];
    store.on('writeError', (err: SessionStoreError, id: string) => errors.push(`${id}:${err.code}`));
    fs.unlinkSync(file);
    await store.append('s', { id: 'a', role: 'user', content: '1' });
    await waitFor('a writeError event', () => errors.length > 0);
    expect(errors[0]).toBe('s:ERR_SESSION_NOT_FOUND');
    fs.writeFileSync(file, headerLine);
    await waitFor('the backed-off retry', () => fs.readFileSync(file, 'utf8').includes('"id":"a"'), { timeoutMs: 15_000 });
    await store.close();
  });

  it('seals a torn last line before appending so the new entry is never glued to it', async () => {
    const { store, file } = await setup({});
    const warnings: string[] = [];
    store.on('warning', (w: { code: string }) => warnings.push(w.code));
    fs.appendFileSync(file, '{"type":"message","role":"user","content":"half a li');
    await store.append('s', { id: 'next', role: 'user', content: 'whole' });
    await store.flush('s');
    const { entries, problems } = await store.read('s');
    expect(entries.map((e) => e.id)).toEqual(['next']);
    expect(problems.map((p) => [p.kind, p.line])).toEqual([['invalid-json', 2]]);
    expect(warnings).toEqual(['SESSIONLOG_SEALED']);
    await store.close();
  });

  it('appends buffered entries to the new file after an editor saves by rename (vim, sed -i), keeping the edit', async () => {
    const { store, file } = await setup({});
    await store.append('s', { id: 'before', role: 'user', content: 'acked' });
    await store.flush('s');
    await store.append('s', { id: 'buffered', role: 'user', content: 'in memory during the save' });
    // vim's default save: rename the original away, write a new file, delete the backup.
    const original = fs.readFileSync(file, 'utf8');
    const edited = original.replace('"acked"', '"acked, then edited by hand"');
    fs.renameSync(file, `${file}~`);
    fs.writeFileSync(file, edited, { mode: 0o600 });
    fs.unlinkSync(`${file}~`);
    await store.append('s', { id: 'after', role: 'user', content: 'after the save' });
    await store.flush('s');
    const entries = entryLines(file);
    expect(entries.map((e) => e['id'])).toEqual(['before', 'buffered', 'after']);
    expect(entries[0]?.['content']).toBe('acked, then edited by hand');
    await store.close();
  });
});
