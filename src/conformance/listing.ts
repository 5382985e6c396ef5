/** Conformance: listing, paging, filters and `latest`. */
import { describe, expect, it } from 'vitest';
import type { Opener } from './index.js';
import { codeOf } from './index.js';

/** Registers the listing tests. */
export function describeListing(open: Opener): void {
  describe('listing', () => {
    it('newest activity first by default; createdAt and ascending on request', async () => {
      const store = await open();
      const a = await store.create({ id: 'a', title: 'a' });
      const b = await store.create({ id: 'b', title: 'b' });
      await store.append(a.id, { role: 'user', content: 'a is the most recent now', ts: '2099-01-01T00:00:00.000Z' });
      expect((await store.list()).sessions.map((s) => s.id)).toEqual(['a', 'b']);
      expect((await store.list({ sort: 'createdAt', order: 'asc' })).sessions.map((s) => s.id)).toEqual(['a', 'b']);
      expect((await store.list({ sort: 'createdAt' })).sessions.map((s) => s.id)).toEqual(['b', 'a']);
      expect((await store.latest())?.id).toBe(b.id === 'b' ? 'a' : 'b');
    });

    it('pages with a keyset cursor: every session once while others are created meanwhile', async () => {
      const store = await open();
      for (let i = 0; i < 25; i++) await store.create({ id: `s${String(i).padStart(2, '0')}` });
      const seen: string[] = [];
      let cursor: string | undefined;
      let round = 0;
      do {
        const page = await store.list({ limit: 7, cursor });
        seen.push(...page.sessions.map((s) => s.id));
        cursor = page.nextCursor;
        if (round++ === 1) await store.create({ id: 'late' });
      } while (cursor !== undefined);
      const original = seen.filter((id) => id !== 'late');
      expect(new Set(original).size).toBe(25);
      expect(original).toHaveLength(25);
    });

    it('filters: model, cwd, title substring (any case), metadata, time ranges; latest with a filter', async () => {
      const store = await open();
      await store.create({ id: 'x', title: 'Fix the BUILD', model: 'm1', cwd: '/a', metadata: { team: 'core', n: 1 } });
      await store.create({ id: 'y', title: 'Docs', model: 'm2', cwd: '/b', metadata: { team: 'docs' } });
      const ids = async (filter: object) => (await store.list({ filter })).sessions.map((s) => s.id).sort();
      expect(await ids({ model: 'm1' })).toEqual(['x']);
      expect(await ids({ cwd: '/b' })).toEqual(['y']);
      expect(await ids({ title: 'build' })).toEqual(['x']);
      expect(await ids({ metadata: { team: 'core' } })).toEqual(['x']);
      expect(await ids({ metadata: { team: 'core', n: 2 } })).toEqual([]);
      expect(await ids({ createdAfter: '2000-01-01', createdBefore: new Date(Date.now() + 86_400_000) })).toEqual(['x', 'y']);
      expect(await ids({ updatedAfter: '2999-01-01' })).toEqual([]);
      expect((await store.latest({ cwd: '/a' }))?.id).toBe('x');
      expect(await store.latest({ cwd: '/none' })).toBeUndefined();
    });

    it('refuses bad options with ERR_INVALID_OPTION', async () => {
      const store = await open();
      expect(await codeOf(store.list({ limit: 0 }))).toBe('ERR_INVALID_OPTION');
      expect(await codeOf(store.list({ sort: 'size' as never }))).toBe('ERR_INVALID_OPTION');
      expect(await codeOf(store.list({ cursor: 'garbage' }))).toBe('ERR_INVALID_OPTION');
      expect(await codeOf(store.list({ filter: { createdAfter: 'yesterday' } }))).toBe('ERR_INVALID_OPTION');
    });
  });
}
