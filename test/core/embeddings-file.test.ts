/** The file backend's embeddings file: compact, binary, torn writes skipped and reported, rewritten when mostly dead. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, type WarningEvent } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

const fileOf = (dir: string): string => path.join(dir, '.embeddings', 'vectors.bin');
const unit = (i: number, dims: number): number[] => Array.from({ length: dims }, (_, j) => (j === i % dims ? 1 : 0.01 * ((i * 31 + j) % 7)));

async function storeWith(dir: string, count: number, dims: number) {
  const store = await openStore({ dir });
  await store.create({ id: 's' });
  await store.embeddings.upsertMany(Array.from({ length: count }, (_, i) => ({ id: `v${i}`, sessionId: 's', vector: unit(i, dims), text: `t${i}` })));
  return store;
}

describe('file embeddings', () => {
  it('binary and compact: 1,000 × 384 vectors take 4 bytes a value plus under 64 bytes a record', async () => {
    const dir = tempDir();
    const store = await storeWith(dir, 1000, 384);
    const size = fs.statSync(fileOf(dir)).size;
    expect(size).toBeGreaterThan(1000 * 384 * 4);
    expect(size).toBeLessThan(16 + 1000 * (384 * 4 + 64));
    expect(fs.statSync(fileOf(dir)).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('a record cut short at the end is waited for, not reported; once records follow it, it is skipped and reported', async () => {
    const dir = tempDir();
    await (await storeWith(dir, 3, 8)).close();
    const file = fileOf(dir);
    fs.truncateSync(file, fs.statSync(file).size - 7); // a crash mid-write of the third record
    const store = await openStore({ dir });
    const warnings: WarningEvent[] = [];
    store.on('warning', (w) => warnings.push(w));
    expect(await store.embeddings.count()).toBe(2);
    expect(warnings).toEqual([]);
    await store.embeddings.upsert({ id: 'next', sessionId: 's', vector: unit(5, 8) });
    expect((await store.embeddings.search(unit(0, 8), { limit: 10 })).map((h) => h.id).sort()).toEqual(['next', 'v0', 'v1']);
    const fresh = await openStore({ dir });
    const seen: WarningEvent[] = [];
    fresh.on('warning', (w) => seen.push(w));
    expect(await fresh.embeddings.count()).toBe(3);
    expect(seen.map((w) => w.code)).toEqual(['SESSIONLOG_EMBEDDINGS_DAMAGED']);
    expect(seen[0]?.message).toMatch(/Skipped \d+ damaged bytes/);
    await Promise.all([store.close(), fresh.close()]);
  });

  it('rewritten to its live vectors when mostly replaced; a reader holding the old file follows', async () => {
    const dir = tempDir();
    const store = await storeWith(dir, 10, 4);
    const reader = await openStore({ dir });
    expect(await reader.embeddings.count()).toBe(10);
    const inode = fs.statSync(fileOf(dir)).ino;
    for (let round = 0; round < 12; round++) {
      await store.embeddings.upsertMany(Array.from({ length: 100 }, (_, i) => ({ id: `r${i}`, sessionId: 's', vector: unit(i + round, 4) })));
    }
    expect(fs.statSync(fileOf(dir)).ino).not.toBe(inode);
    // 1,210 records written; after the rewrite at 1,010 the file holds 110 live ones and the 100 since.
    expect(fs.statSync(fileOf(dir)).size).toBeLessThan(16 + 210 * 80);
    expect(await reader.embeddings.count()).toBe(110);
    expect(await store.embeddings.count()).toBe(110);
    await Promise.all([store.close(), reader.close()]);
  });

  it('a record larger than the read buffer (a 9 MB text) is read back', async () => {
    const dir = tempDir();
    const store = await storeWith(dir, 2, 4);
    await store.embeddings.upsert({ id: 'long', sessionId: 's', vector: [0, 0, 0, 1], text: 'x'.repeat(9 << 20) });
    const fresh = await openStore({ dir });
    const [hit] = await fresh.embeddings.search([0, 0, 0, 1], { limit: 1 });
    expect(hit?.id).toBe('long');
    expect(hit?.text).toHaveLength(9 << 20);
    await Promise.all([store.close(), fresh.close()]);
  });

  it('a file of a newer format, or not ours, is refused with a code and left alone', async () => {
    const dir = tempDir();
    await (await storeWith(dir, 1, 4)).close();
    const file = fileOf(dir);
    const bytes = fs.readFileSync(file);
    bytes[6] = 9;
    fs.writeFileSync(file, bytes);
    const store = await openStore({ dir });
    await expect(store.embeddings.search([1, 0, 0, 0])).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_VERSION' });
    fs.writeFileSync(file, 'not a vector file at all');
    await expect(store.embeddings.count()).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    expect(fs.readFileSync(file, 'utf8')).toBe('not a vector file at all');
    fs.rmSync(file);
    fs.symlinkSync('/etc/hostname', file);
    await expect(store.embeddings.count()).rejects.toMatchObject({ code: 'ERR_IO' });
    await store.close();
  });
});

describe('file embeddings, unused', () => {
  it('a store that never stored a vector gets no embeddings folder, also when sessions are deleted', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 'a' });
    await store.delete('a');
    expect(await store.embeddings.delete('x')).toBe(false);
    expect(fs.existsSync(path.join(dir, '.embeddings'))).toBe(false);
    await store.close();
  });
});
