/** Conformance: embeddings, searched by cosine similarity, deleted with their session. */
import { describe, expect, it } from 'vitest';
import type { ConformanceOptions, Opener } from './index.js';
import { ackedIds, codeOf, runChild } from './index.js';

/** A deterministic pseudo-random vector (xorshift), so failures reproduce. */
function vectorOf(seed: number, dims: number): number[] {
  let x = seed * 2654435761 + 1;
  return Array.from({ length: dims }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  });
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Registers the embedding tests. */
export function describeEmbeddings(open: Opener, options: ConformanceOptions): void {
  describe('embeddings', () => {
    it('upsert and search: best first by cosine, with entry, text and metadata; filtered by session; replaced by id', async () => {
      const store = await open();
      const a = await store.create({ id: 'a' });
      const b = await store.create({ id: 'b' });
      expect(await store.embeddings.dimensions()).toBeUndefined();
      expect(await store.embeddings.search([1, 0, 0])).toEqual([]);
      const x = await store.embeddings.upsert({ sessionId: a.id, entryId: 'e1', vector: [1, 0, 0], text: 'about x', metadata: { k: 1 } });
      await store.embeddings.upsert({ id: 'y', sessionId: a.id, vector: new Float32Array([0.8, 0.6, 0]) });
      await store.embeddings.upsert({ id: 'z', sessionId: b.id, vector: new Float64Array([0, 0, 5]) });
      expect(typeof x).toBe('string');
      expect(await store.embeddings.dimensions()).toBe(3);
      expect(await store.embeddings.count()).toBe(3);
      const hits = await store.embeddings.search([2, 0, 0]);
      expect(hits.map((h) => h.id)).toEqual([x, 'y', 'z']);
      expect(hits[0]).toEqual({ id: x, sessionId: 'a', entryId: 'e1', score: 1, text: 'about x', metadata: { k: 1 } });
      expect(hits[1]?.score).toBeCloseTo(0.8, 6);
      expect(hits[2]?.score).toBeCloseTo(0, 6);
      expect((await store.embeddings.search([0.6, 0.8, 1], { sessionId: 'a' })).map((h) => h.id)).toEqual(['y', x]);
      expect((await store.embeddings.search([0, 0, 1], { sessionId: 'b' })).map((h) => h.id)).toEqual(['z']);
      expect(await store.embeddings.search([0, 0, 1], { sessionId: 'nosuch' })).toEqual([]);
      expect(await store.embeddings.search([1, 0, 0], { limit: 1 })).toHaveLength(1);
      await store.embeddings.upsert({ id: 'y', sessionId: b.id, vector: [-1, 0, 0] });
      expect(await store.embeddings.count()).toBe(3);
      const last = (await store.embeddings.search([1, 0, 0])).at(-1);
      expect(last).toMatchObject({ id: 'y', sessionId: 'b', score: -1 });
    });

    it('exact: the same top 10 as a brute-force cosine over 500 random vectors, with filters', async () => {
      const store = await open();
      await store.create({ id: 's1' });
      await store.create({ id: 's2' });
      const dims = 24;
      const items = Array.from({ length: 500 }, (_, i) => ({ id: `v${i}`, sessionId: i % 3 === 0 ? 's1' : 's2', vector: vectorOf(i + 1, dims) }));
      expect(await store.embeddings.upsertMany(items)).toEqual(items.map((i) => i.id));
      for (let q = 0; q < 5; q++) {
        const query = vectorOf(10_000 + q, dims);
        for (const sessionId of [undefined, 's1']) {
          const expected = items.filter((i) => sessionId === undefined || i.sessionId === sessionId).map((i) => ({ id: i.id, score: cosine(query, i.vector) })).sort((p, r) => r.score - p.score).slice(0, 10);
          const hits = await store.embeddings.search(query, sessionId === undefined ? {} : { sessionId });
          expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
          hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]?.score as number, 5));
        }
      }
    });

    it('bad vectors refused with a code, and nothing stored (a batch is all or nothing)', async () => {
      const store = await open();
      await store.create({ id: 'a' });
      await store.embeddings.upsert({ id: 'ok', sessionId: 'a', vector: [1, 2, 3] });
      const bad: [unknown, string][] = [
        [[1, Number.NaN, 3], 'ERR_INVALID_VECTOR'],
        [[1, Number.POSITIVE_INFINITY, 3], 'ERR_INVALID_VECTOR'],
        [[1, 1e39, 3], 'ERR_INVALID_VECTOR'], // finite as a double, infinite as float32
        [[1, '2', 3], 'ERR_INVALID_VECTOR'],
        [[0, 0, 0], 'ERR_INVALID_VECTOR'],
        [[], 'ERR_INVALID_VECTOR'],
        ['1,2,3', 'ERR_INVALID_VECTOR'],
        [[1, 2], 'ERR_DIMENSION_MISMATCH'],
        [[1, 2, 3, 4], 'ERR_DIMENSION_MISMATCH'],
      ];
      for (const [vector, code] of bad) {
        expect(await codeOf(store.embeddings.upsert({ sessionId: 'a', vector: vector as number[] })), JSON.stringify(vector)).toBe(code);
        expect(await codeOf(store.embeddings.search(vector as number[])), JSON.stringify(vector)).toBe(code);
      }
      expect(await codeOf(store.embeddings.upsertMany([{ id: 'good', sessionId: 'a', vector: [3, 2, 1] }, { sessionId: 'a', vector: [1, 2] }]))).toBe('ERR_DIMENSION_MISMATCH');
      expect(await codeOf(store.embeddings.upsert({ sessionId: 'nosuch', vector: [1, 2, 3] }))).toBe('ERR_SESSION_NOT_FOUND');
      expect(await codeOf(store.embeddings.upsert({ sessionId: '../x', vector: [1, 2, 3] }))).toBe('ERR_INVALID_ID');
      expect(await codeOf(store.embeddings.upsert({ id: '', sessionId: 'a', vector: [1, 2, 3] }))).toBe('ERR_INVALID_OPTION');
      expect(await codeOf(store.embeddings.search([1, 2, 3], { limit: 0 }))).toBe('ERR_INVALID_OPTION');
      expect(await codeOf(store.embeddings.search([1, 2, 3], { sessionId: '../x' }))).toBe('ERR_INVALID_ID');
      expect(await store.embeddings.count()).toBe(1);
      expect((await store.embeddings.search([1, 2, 3])).map((h) => h.id)).toEqual(['ok']);
    });

    it('delete, deleteBySession, and deleting a session deletes its vectors', async () => {
      const store = await open();
      for (const id of ['a', 'b', 'c']) await store.create({ id });
      await store.embeddings.upsertMany([
        { id: 'a1', sessionId: 'a', vector: [1, 0] },
        { id: 'a2', sessionId: 'a', vector: [1, 1] },
        { id: 'b1', sessionId: 'b', vector: [0, 1] },
        { id: 'c1', sessionId: 'c', vector: [1, -1] },
      ]);
      expect(await store.embeddings.delete('a1')).toBe(true);
      expect(await store.embeddings.delete('a1')).toBe(false);
      expect(await store.embeddings.deleteBySession('a')).toBe(1);
      expect(await store.embeddings.deleteBySession('a')).toBe(0);
      await store.delete('b');
      expect((await store.embeddings.search([1, 1])).map((h) => h.id)).toEqual(['c1']);
      expect(await store.embeddings.count()).toBe(1);
      // The dimension stays the store's.
      expect(await codeOf(store.embeddings.upsert({ sessionId: 'c', vector: [1, 2, 3] }))).toBe('ERR_DIMENSION_MISMATCH');
    });

    it('text and metadata are redacted before they are stored', async () => {
      const store = await open();
      await store.create({ id: 'a' });
      const token = `ghp_${'a1'.repeat(18)}`;
      await store.embeddings.upsert({ id: 's', sessionId: 'a', vector: [1, 0], text: `GITHUB_TOKEN=${token}`, metadata: { note: token } });
      const [hit] = await store.embeddings.search([1, 0]);
      expect(JSON.stringify(hit)).not.toContain(token);
      expect(hit?.text).toMatch(/^GITHUB_TOKEN=\S+/);
    });

    it('another instance sees upserts and deletes', async () => {
      if (open.reopen === undefined) return;
      const store = await open();
      await store.create({ id: 'a' });
      const other = await open.reopen(store);
      expect(await other.embeddings.search([1, 0])).toEqual([]);
      await store.embeddings.upsert({ id: 'v', sessionId: 'a', vector: [1, 0] });
      expect((await other.embeddings.search([1, 0])).map((h) => h.id)).toEqual(['v']);
      await other.embeddings.upsert({ id: 'w', sessionId: 'a', vector: [0, 1] });
      await store.embeddings.delete('v');
      expect((await other.embeddings.search([1, 0])).map((h) => h.id)).toEqual(['w']);
      await other.delete('a');
      expect(await store.embeddings.count()).toBe(0);
    });

    it('three processes upserting at once: every acknowledged vector is there, none twice', async () => {
      if (options.childOptions === undefined) return;
      const store = await open();
      await store.create({ id: 'shared' });
      const child = options.childOptions(store);
      const runs = await Promise.all(['A', 'BB', 'CCC'].map((tag) => runChild(child, 'shared', tag, 60, 8, undefined, 'embed-child')));
      const acked = runs.flatMap((run) => ackedIds(run.lines));
      expect(acked).toHaveLength(180);
      expect(await store.embeddings.count()).toBe(180);
      const hits = await store.embeddings.search([1, 0, 0, 0, 0, 0, 0, 0], { limit: 1000 });
      expect(new Set(hits.map((h) => h.id))).toEqual(new Set(acked));
    });

    it('a writer SIGKILLed in the middle loses no acknowledged vector, and the store goes on', async () => {
      if (options.childOptions === undefined) return;
      const store = await open();
      await store.create({ id: 'killed' });
      const { lines, signal } = await runChild(options.childOptions(store), 'killed', 'K', 100_000, 8, 25, 'embed-child');
      expect(signal).toBe('SIGKILL');
      const acked = ackedIds(lines);
      expect(acked.length).toBeGreaterThanOrEqual(25);
      const present = new Set((await store.embeddings.search([1, 0, 0, 0, 0, 0, 0, 0], { limit: 10_000 })).map((h) => h.id));
      for (const id of acked) expect(present.has(id), id).toBe(true);
      await store.embeddings.upsert({ id: 'after', sessionId: 'killed', vector: [0, 0, 0, 0, 0, 0, 0, 1] });
      expect((await store.embeddings.search([0, 0, 0, 0, 0, 0, 0, 1], { limit: 1 }))[0]?.id).toBe('after');
    });
  });
}
