/** Conformance: appending and reading entries. */
import { describe, expect, it } from 'vitest';
import type { Opener } from './index.js';
import { codeOf } from './index.js';

/** Registers the entry tests. */
export function describeReading(open: Opener): void {
  describe('entries', () => {
    it('append stamps id and ts, keeps unknown fields and types, and read returns the entries deep-equal, in order', async () => {
      const store = await open();
      const { id } = await store.create();
      const one = await store.append(id, { role: 'user', content: 'hello', extra: { nested: [1, 'two', null] } } as never);
      const many = await store.append(id, [
        { role: 'assistant', content: [{ type: 'text', text: 'parts' }], toolCalls: [{ id: 'c1', name: 'bash', arguments: { cmd: 'ls' } }], usage: { input: 10, output: 5 } },
        { role: 'tool', toolCallId: 'c1', toolName: 'bash', content: 'a\nb', isError: false },
        { type: 'event', name: 'custom', data: { é: '\u2028', n: 1.5 } },
      ]);
      expect(one).toMatchObject({ type: 'message', role: 'user', extra: { nested: [1, 'two', null] } });
      expect(typeof one.id).toBe('string');
      expect(Date.parse(one.ts)).not.toBeNaN();
      await store.flush(id);
      const { entries, problems } = await store.read(id);
      expect(problems).toEqual([]);
      expect(entries).toEqual([one, ...many]);
      expect(JSON.parse(JSON.stringify(entries))).toEqual(entries);
      const streamed = [];
      for await (const entry of store.stream(id)) streamed.push(entry);
      expect(streamed).toEqual(entries);
    });

    it('a batch with one invalid entry is refused whole (ERR_INVALID_ENTRY); reserved types and non-objects too', async () => {
      const store = await open();
      const { id } = await store.create();
      expect(await codeOf(store.append(id, [{ role: 'user', content: 'ok' }, { role: 'robot', content: 'x' } as never]))).toBe('ERR_INVALID_ENTRY');
      expect(await codeOf(store.append(id, { type: 'session', id: 'x' } as never))).toBe('ERR_INVALID_ENTRY');
      expect(await codeOf(store.append(id, 'text' as never))).toBe('ERR_INVALID_ENTRY');
      expect(await codeOf(store.append(id, { role: 'user', content: 7 } as never))).toBe('ERR_INVALID_ENTRY');
      expect((await store.read(id)).entries).toEqual([]);
    });

    it('an entry above maxEntryBytes (64 MiB) is refused with ERR_ENTRY_TOO_LARGE before anything is written', async () => {
      const store = await open();
      const { id } = await store.create();
      expect(await codeOf(store.append(id, { role: 'tool', content: 'z'.repeat(65 * 1024 * 1024) }))).toBe('ERR_ENTRY_TOO_LARGE');
      await store.append(id, { role: 'user', content: 'after' });
      expect((await store.read(id)).entries.map((e) => e['content'])).toEqual(['after']);
    });

    it('an entry id given by the caller is kept; flush and sync resolve once written', async () => {
      const store = await open();
      const { id } = await store.create();
      await store.append(id, { id: 'mine-1', role: 'user', content: 'x' });
      await store.flush(id);
      await store.append(id, { role: 'user', content: 'y' });
      await store.sync(id);
      await store.sync();
      expect((await store.read(id)).entries.map((e) => e.id)[0]).toBe('mine-1');
    });

    it('read: tail, limit with after (hasMore), fromCompaction', async () => {
      const store = await open();
      const { id } = await store.create();
      const first = await store.append(id, Array.from({ length: 10 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })));
      const compaction = await store.append(id, { type: 'compaction', summary: 'so far' });
      const after = await store.append(id, [{ role: 'user', content: 'n0' }, { role: 'assistant', content: 'n1' }]);
      expect((await store.read(id, { tail: 2 })).entries).toEqual(after);
      expect((await store.read(id, { tail: 0 })).entries).toEqual([]);
      const page1 = await store.read(id, { limit: 4 });
      expect(page1.entries).toEqual(first.slice(0, 4));
      expect(page1.hasMore).toBe(true);
      const page2 = await store.read(id, { limit: 4, after: first[3]!.id });
      expect(page2.entries).toEqual(first.slice(4, 8));
      const last = await store.read(id, { limit: 100, after: first[9]!.id });
      expect(last.entries).toEqual([compaction, ...after]);
      expect(last.hasMore).toBe(false);
      expect((await store.read(id, { fromCompaction: true })).entries).toEqual([compaction, ...after]);
      expect((await store.read(id, { after: 'nosuch' })).entries).toEqual([]);
    });

    it('usage totals and entry counts follow the entries', async () => {
      const store = await open();
      const { id } = await store.create();
      await store.append(id, [
        { role: 'assistant', content: 'a', usage: { input: 100, output: 20, cacheRead: 5 } },
        { role: 'assistant', content: 'b', usage: { input: 50, output: 10, total: 60 } },
        { role: 'user', content: 'c' },
      ]);
      const info = await store.get(id);
      expect(info).toMatchObject({ entryCount: 3, usage: { input: 150, output: 30, cacheRead: 5, cacheWrite: 0, total: 60 } });
      expect(info!.bytes).toBeGreaterThan(0);
    });

    it('search: plain, case-insensitive and regex; limits; only entry text; a bad regex refused', async () => {
      const store = await open();
      const a = await store.create({ title: 'A' });
      const b = await store.create({ title: 'B' });
      await store.append(a.id, [{ role: 'user', content: 'The Needle is here' }, { role: 'assistant', content: 'needle again, needle' }]);
      await store.append(b.id, [{ role: 'tool', toolCallId: 'c', content: 'a needle in tool output' }, { role: 'user', content: 'nothing' }]);
      const all = async (query: string, options: Parameters<typeof store.search>[1] = {}) => {
        const hits = [];
        for await (const hit of store.search(query, options)) hits.push(hit);
        return hits;
      };
      expect((await all('needle')).map((h) => h.session).sort()).toEqual([a.id, b.id].sort());
      expect(await all('needle', { ignoreCase: true })).toHaveLength(3);
      const hit = (await all('Needle'))[0];
      expect(hit).toMatchObject({ session: a.id, title: 'A', role: 'user', type: 'message' });
      expect(hit!.snippet.slice(hit!.match[0], hit!.match[1])).toBe('Needle');
      expect(await all('[Nn]e+dle', { regex: true })).toHaveLength(3);
      expect(await all('NE+DLE', { regex: true, ignoreCase: true })).toHaveLength(3);
      expect(await all('needle', { limit: 1 })).toHaveLength(1);
      expect(await all('needle', { ignoreCase: true, limitPerSession: 1 })).toHaveLength(2);
      expect((await all('needle', { sessions: [b.id] })).map((h) => h.session)).toEqual([b.id]);
      expect(await all('assistant')).toEqual([]);
      expect(await codeOf(all('(', { regex: true }))).toBe('ERR_INVALID_OPTION');
    });
  });
}
