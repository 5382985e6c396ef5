import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FileStoreOptions, openStore, SessionStoreError } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

async function open(options: Omit<FileStoreOptions, 'dir' | 'schema' | 'url'> = {}) {
  const dir = tempDir();
  const store = await openStore({ dir, ...options });
  return { dir, store, file: (id: string) => path.join(dir, `${id}.jsonl`) };
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SessionStoreError) return err.code;
    throw err;
  }
  return undefined;
}

describe('sessions', () => {
  it('create writes the header as line 1 before resolving, and refuses an existing id', async () => {
    const { store, file } = await open();
    const info = await store.create({ id: 'a', title: 'T', model: 'm', cwd: '/w', metadata: { k: 1 } });
    expect(info).toMatchObject({ id: 'a', title: 'T', model: 'm', cwd: '/w', metadata: { k: 1 }, entryCount: 0, problems: 0 });
    expect(JSON.parse(lines(file('a'))[0] as string)).toMatchObject({ type: 'session', version: 1, id: 'a', title: 'T' });
    expect(await codeOf(store.create({ id: 'a' }))).toBe('ERR_SESSION_EXISTS');
    await store.close();
  });

  it('generates sortable ids', async () => {
    const { store } = await open();
    const ids = [];
    for (let i = 0; i < 50; i++) ids.push((await store.create()).id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
    await store.close();
  });

  it('round-trips entries with stamps, unknown fields and unknown types preserved', async () => {
    const { store, file } = await open();
    await store.create({ id: 's' });
    const one = await store.append('s', { role: 'user', content: 'hello', extra: { nested: [1, 2] } } as never);
    const many = await store.append('s', [
      { role: 'assistant', content: [{ type: 'text', text: 'hi' }, { type: 'future_part', data: 1 }], toolCalls: [{ id: 'c1', name: 'read', arguments: { p: 1 } }], usage: { input: 10, output: 3, cacheRead: 2 } },
      { role: 'tool', content: 'file text', toolCallId: 'c1', toolName: 'read', isError: false },
      { type: 'agent_event', payload: { x: 1 } },
    ]);
    expect(one).toMatchObject({ type: 'message', role: 'user', extra: { nested: [1, 2] } });
    expect(one.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(one.ts)).not.toBeNaN();
    expect(many).toHaveLength(3);
    await store.flush('s');
    // Stamps lead every line, so the file reads well in an editor.
    expect(lines(file('s'))[1]).toMatch(/^\{"type":"message","id":"[^"]+","ts":"[^"]+","role":"user"/);
    const { entries, problems } = await store.read('s');
    expect(problems).toEqual([]);
    expect(entries).toEqual([one, ...many]);
    const info = await store.get('s');
    expect(info).toMatchObject({ entryCount: 4, usage: { input: 10, output: 3, cacheRead: 2, cacheWrite: 0, total: 13 } }); // no entry reported a total: input + output
    await store.close();
  });

  it('refuses invalid and reserved entries whole, naming the field but not the value', async () => {
    const { store, file } = await open();
    await store.create({ id: 's' });
    const secret = 'ghp_SECRETSECRETSECRET';
    const err = await store.append('s', [{ role: 'user', content: 'ok' }, { role: secret as never, content: 'x' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionStoreError);
    expect((err as SessionStoreError).code).toBe('ERR_INVALID_ENTRY');
    expect((err as Error).message).toContain('role');
    expect((err as Error).message).toContain(file('s'));
    expect((err as Error).message).not.toContain(secret);
    expect(await codeOf(store.append('s', { type: 'session_update', title: 'x' } as never))).toBe('ERR_INVALID_ENTRY');
    expect(await codeOf(store.append('s', 'text' as never))).toBe('ERR_INVALID_ENTRY');
    await store.flush('s');
    expect(lines(file('s'))).toHaveLength(1);
    await store.close();
  });

  it('refuses an entry above maxEntryBytes before writing a byte, and stores a 20 MB entry whole', async () => {
    const { store, file } = await open({ maxEntryBytes: 32 * 1024 * 1024 });
    await store.create({ id: 's' });
    const before = fs.statSync(file('s')).size;
    expect(await codeOf(store.append('s', { role: 'tool', content: 'z'.repeat(33 * 1024 * 1024) }))).toBe('ERR_ENTRY_TOO_LARGE');
    await store.flush('s');
    expect(fs.statSync(file('s')).size).toBe(before);
    const big = 'q'.repeat(20 * 1024 * 1024);
    await store.append('s', { role: 'tool', content: big });
    await store.flush('s');
    const { entries } = await store.read('s');
    expect(entries).toHaveLength(1);
    expect((entries[0] as { content: string }).content.length).toBe(big.length);
    await store.close();
  });

  it('update appends a bookkeeping record folded into info and hidden from read', async () => {
    const { store, file } = await open();
    await store.create({ id: 's', title: 'old', metadata: { keep: 1, drop: 2 } });
    await store.append('s', { role: 'user', content: 'q' });
    const info = await store.update('s', { title: 'new', model: 'm2', metadata: { drop: null, add: 'x' } });
    expect(info).toMatchObject({ title: 'new', model: 'm2', metadata: { keep: 1, add: 'x' }, entryCount: 1 });
    expect(info.metadata).not.toHaveProperty('drop');
    expect((await store.read('s')).entries).toHaveLength(1);
    expect(lines(file('s'))).toHaveLength(3);
    expect(JSON.parse(lines(file('s'))[0] as string).title).toBe('old');
    expect(await codeOf(store.update('s', { colour: 'red' } as never))).toBe('ERR_INVALID_OPTION');
    expect(await codeOf(store.update('missing', { title: 'x' }))).toBe('ERR_SESSION_NOT_FOUND');
    await store.close();
  });

  it('delete is idempotent and drops buffered entries', async () => {
    const { store, file } = await open();
    await store.create({ id: 's' });
    await store.append('s', { role: 'user', content: 'buffered' });
    await store.delete('s');
    await store.delete('s');
    await store.flush();
    expect(fs.existsSync(file('s'))).toBe(false);
    expect(await store.get('s')).toBeUndefined();
    expect(await codeOf(store.append('s', { role: 'user', content: 'x' }))).toBe('ERR_SESSION_NOT_FOUND');
    await store.close();
  });

  it('fork copies entries up to `at` verbatim and names the parent', async () => {
    const { dir, store, file } = await open();
    await store.create({ id: 'p', title: 'parent', cwd: '/w' });
    const entries = await store.append('p', [1, 2, 3, 4].map((n) => ({ role: 'user' as const, content: `m${n}`, custom: n })));
    const fork = await store.fork('p', { at: entries[1]?.id as string, id: 'child' });
    expect(fork).toMatchObject({ id: 'child', title: 'parent', cwd: '/w', entryCount: 2, parent: { id: 'p', entryId: entries[1]?.id } });
    expect(lines(file('child')).slice(1)).toEqual(lines(file('p')).slice(1, 3));
    const all = await store.fork('p', { title: 'all' });
    expect(all).toMatchObject({ entryCount: 4, title: 'all', parent: { id: 'p', entryId: entries[3]?.id } });
    expect(await codeOf(store.fork('p', { at: 'nope', id: 'c2' }))).toBe('ERR_INVALID_OPTION');
    expect(await codeOf(store.fork('p', { id: 'child' }))).toBe('ERR_SESSION_EXISTS');
    // No temp file is left behind by the failed forks.
    expect(fs.readdirSync(dir).sort()).toEqual(['child.jsonl', `${all.id}.jsonl`, 'p.jsonl'].sort());
    await store.close();
  });

  it('a caller schema validates entries and its output type flows through read', async () => {
    const Note = z.object({ type: z.literal('note'), text: z.string().min(1), tags: z.array(z.string()).default([]) });
    const store = await openStore({ dir: tempDir(), schema: Note });
    await store.create({ id: 's' });
    const stored = await store.append('s', { type: 'note', text: 'hi' });
    expect(stored).toMatchObject({ type: 'note', text: 'hi', tags: [] });
    expect(await codeOf(store.append('s', { type: 'note', text: '' }))).toBe('ERR_INVALID_ENTRY');
    const { entries } = await store.read('s');
    const first = entries[0];
    // Compile-time: `text` and `tags` are typed from the schema.
    const text: string | undefined = first?.text;
    const tags: string[] | undefined = first?.tags;
    expect([text, tags, first?.id]).toEqual(['hi', [], stored.id]);
    await store.close();
  });

  it('stream yields the same entries as read, in bounded chunks', async () => {
    const { store } = await open();
    await store.create({ id: 's' });
    const appended = await store.append('s', Array.from({ length: 500 }, (_, n) => ({ role: 'user' as const, content: `n${n} ${'x'.repeat(600)}` })));
    const streamed = [];
    for await (const entry of store.stream('s')) streamed.push(entry);
    expect(streamed).toEqual(appended);
    await store.close();
  });

  it('pages with limit/after and reads tail / fromCompaction from the end', async () => {
    const { store } = await open();
    await store.create({ id: 's' });
    const before = await store.append('s', Array.from({ length: 30 }, (_, n) => ({ role: 'user' as const, content: `a${n}` })));
    const compaction = await store.append('s', { type: 'compaction', summary: 'sum' });
    const after = await store.append('s', Array.from({ length: 5 }, (_, n) => ({ role: 'user' as const, content: `b${n}` })));
    const page1 = await store.read('s', { limit: 10 });
    expect(page1.entries).toEqual(before.slice(0, 10));
    expect(page1.hasMore).toBe(true);
    const page2 = await store.read('s', { limit: 10, after: page1.entries.at(-1)?.id as string });
    expect(page2.entries).toEqual(before.slice(10, 20));
    const last = await store.read('s', { limit: 100, after: after[3]?.id as string });
    expect(last).toMatchObject({ entries: [after[4]], hasMore: false });
    expect((await store.read('s', { tail: 3 })).entries).toEqual(after.slice(2));
    expect((await store.read('s', { tail: 1000 })).entries).toHaveLength(36);
    expect((await store.read('s', { fromCompaction: true })).entries).toEqual([compaction, ...after]);
    expect((await store.get('s'))?.lastCompactionOffset).toBeGreaterThan(0);
    await store.close();
  });

  it('fromCompaction reads the whole session when there is no compaction', async () => {
    const { store } = await open();
    await store.create({ id: 's' });
    const all = await store.append('s', [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }]);
    expect((await store.read('s', { fromCompaction: true })).entries).toEqual(all);
    await store.close();
  });

  it('keeps "__proto__" keys as data and pollutes nothing', async () => {
    const { store } = await open();
    await store.create({ id: 's', metadata: JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown> });
    await store.append('s', JSON.parse('{"role":"user","content":"x","__proto__":{"polluted":true}}') as never);
    const { entries } = await store.read('s');
    const info = await store.get('s');
    expect(Object.hasOwn(entries[0] as object, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(info?.metadata)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    await store.close();
  });

  it('close flushes, is idempotent, and later calls fail with ERR_CLOSED', async () => {
    const { store, file } = await open();
    await store.create({ id: 's' });
    await store.append('s', { role: 'user', content: 'x' });
    const first = store.close();
    expect(store.close()).toBe(first);
    await first;
    expect(lines(file('s'))).toHaveLength(2);
    expect(await codeOf(store.append('s', { role: 'user', content: 'y' }))).toBe('ERR_CLOSED');
  });

  it('supports await using', async () => {
    const dir = tempDir();
    {
      await using store = await openStore({ dir });
      await store.create({ id: 's' });
      await store.append('s', { role: 'user', content: 'x' });
    }
    expect(lines(path.join(dir, 's.jsonl'))).toHaveLength(2);
  });

  it('validates options with the option name and value', async () => {
    const dir = tempDir();
    await expect(openStore({ dir, flush: { maxEntries: 0 } })).rejects.toThrow(/flush\.maxEntries.*got 0/);
    await expect(openStore({ dir, durability: 'always' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    // A line above V8's string limit could not be decoded: the cap cannot be raised that far (D8).
    await expect(openStore({ dir, maxEntryBytes: 600_000_000 })).rejects.toThrow(/maxEntryBytes.*from 1024 to 536870912.*got 600000000/);
    const largest = await openStore({ dir, maxEntryBytes: 512 * 1024 * 1024 });
    await largest.close();
  });
});
