import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMIT, MAX_LIMIT, openStore, type SessionInfo, type SessionStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

/** A clock that moves 1 ms per call, so every timestamp differs and order is known. */
function ticking(start = Date.parse('2025-01-01T00:00:00Z')): () => number {
  let t = start;
  return () => t++;
}

async function everyPage(store: SessionStore, options: Parameters<SessionStore['list']>[0] = {}): Promise<SessionInfo[]> {
  const all: SessionInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.sessions);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
}

describe('list()', () => {
  it('pages through 300 sessions while others are created and updated: no duplicate, no skip', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, now: ticking() });
    const original: string[] = [];
    for (let i = 0; i < 300; i++) original.push((await store.create({ title: `s${i}` })).id);

    for (const order of ['desc', 'asc'] as const) {
      for (const sort of ['updatedAt', 'createdAt'] as const) {
        const seen: string[] = [];
        const touched = new Set<string>();
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.list({ limit: 37, sort, order, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(...page.sessions.map((s) => s.id));
          cursor = page.nextCursor;
          // Between pages: new sessions, and appends to sessions already seen (they move to the front).
          const created = await store.create({ title: `new-${order}-${sort}-${pages}` });
          touched.add(created.id);
          const old = seen[pages % seen.length] as string;
          await store.append(old, { role: 'user', content: 'moved' });
          if (sort === 'updatedAt') touched.add(old);
          pages++;
        } while (cursor !== undefined);
        // Sorting by updatedAt ascending, a seen session that is updated comes round again: that is the one allowed repeat.
        const repeatable = sort === 'updatedAt' && order === 'asc' ? touched : new Set<string>();
        const counts = new Map<string, number>();
        for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
        for (const [id, n] of counts) if (!repeatable.has(id)) expect(n, `${id} ${order} ${sort}`).toBe(1);
        for (const id of original) expect(counts.has(id) || touched.has(id), `${id} skipped (${order} ${sort})`).toBe(true);
        // Sessions never touched while paging appear exactly once, in order.
        const stable = seen.filter((id) => original.includes(id) && !touched.has(id));
        expect(new Set(stable).size).toBe(stable.length);
      }
    }
  });

  it('orders sessions with equal timestamps by id, and pages them without duplicate or skip under inserts', async () => {
    const dir = tempDir();
    const fixed = Date.parse('2025-02-02T00:00:00Z');
    await using store = await openStore({ dir, now: () => fixed });
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) ids.push((await store.create({ id: `s-${String((i * 7919) % 1000).padStart(3, '0')}-${i}` })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = await store.list({ limit: 40, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.sessions.map((s) => s.id));
      cursor = page.nextCursor;
      // Same timestamp, ids that fall both before and after the cursor.
      await store.create({ id: `s-000-insert-${n}` });
      await store.create({ id: `s-999-insert-${n++}` });
    } while (cursor !== undefined);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    const firstRun = seen.filter((id) => ids.includes(id));
    expect(firstRun).toEqual([...ids].sort().reverse());
    // Ascending is the exact reverse.
    const asc = (await everyPage(store, { order: 'asc', limit: 1000 })).map((s) => s.id);
    const desc = (await everyPage(store, { limit: 1000 })).map((s) => s.id);
    expect(asc).toEqual([...desc].reverse());
  });

  it('sorts by updatedAt (default, newest first) or createdAt, in either order', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, now: ticking() });
    const a = await store.create({ title: 'a' });
    await store.create({ title: 'b' });
    await store.create({ title: 'c' });
    await store.append(a.id, { role: 'user', content: 'a is the most recent now' });
    const ids = async (options: Parameters<SessionStore['list']>[0]) => (await store.list(options)).sessions.map((s) => s.title);
    expect(await ids({})).toEqual(['a', 'c', 'b']);
    expect(await ids({ order: 'asc' })).toEqual(['b', 'c', 'a']);
    expect(await ids({ sort: 'createdAt' })).toEqual(['c', 'b', 'a']);
    expect(await ids({ sort: 'createdAt', order: 'asc' })).toEqual(['a', 'b', 'c']);
  });

  it('filters by created and updated ranges, model, cwd, metadata and title', async () => {
    const dir = tempDir();
    const clock = ticking(Date.parse('2025-03-01T00:00:00Z'));
    await using store = await openStore({ dir, now: clock });
    const one = await store.create({ title: 'Fix the BUILD', model: 'opus', cwd: '/repo/a', metadata: { tags: ['x', 'y'], team: { name: 'core', size: 3 } } });
    const two = await store.create({ title: 'write docs', model: 'sonnet', cwd: '/repo/b', metadata: { tags: ['x'] } });
    const three = await store.create({ title: 'build cache', model: 'opus', cwd: '/repo/b' });
    await store.update(two.id, { title: 'Write the docs', metadata: { reviewed: true } });
    const titles = async (filter: NonNullable<Parameters<SessionStore['list']>[0]>['filter']) =>
      (await store.list({ filter, sort: 'createdAt', order: 'asc' })).sessions.map((s) => s.id);

    expect(await titles({ model: 'opus' })).toEqual([one.id, three.id]);
    expect(await titles({ cwd: '/repo/b' })).toEqual([two.id, three.id]);
    expect(await titles({ title: 'build' })).toEqual([one.id, three.id]);
    expect(await titles({ title: 'THE DOCS' })).toEqual([two.id]);
    expect(await titles({ metadata: { team: { size: 3, name: 'core' } } })).toEqual([one.id]);
    expect(await titles({ metadata: { tags: ['x'] } })).toEqual([two.id]);
    expect(await titles({ metadata: { reviewed: true, tags: ['x'] } })).toEqual([two.id]);
    expect(await titles({ metadata: { team: { name: 'core' } } })).toEqual([]);
    expect(await titles({ createdAfter: two.createdAt })).toEqual([two.id, three.id]);
    expect(await titles({ createdBefore: new Date(two.createdAt) })).toEqual([one.id]);
    const updatedTwo = (await store.get(two.id))?.updatedAt as string;
    expect(await titles({ updatedAfter: updatedTwo })).toEqual([two.id]);
    expect(await titles({ updatedBefore: updatedTwo })).toEqual([one.id, three.id]);
    expect(await titles({ model: 'opus', cwd: '/repo/b', title: 'cache' })).toEqual([three.id]);
    expect(await titles({ model: 'nope' })).toEqual([]);
  });

  it(`has a default limit of ${DEFAULT_LIMIT} and a maximum of ${MAX_LIMIT}; refuses bad options`, async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, now: ticking() });
    for (let i = 0; i < MAX_LIMIT + 1; i++) await store.create();
    const first = await store.list();
    expect(first.sessions).toHaveLength(DEFAULT_LIMIT);
    expect(first.nextCursor).toBeTypeOf('string');
    const big = await store.list({ limit: 5000 });
    expect(big.sessions).toHaveLength(MAX_LIMIT);
    const rest = await store.list({ limit: 5000, cursor: big.nextCursor as string });
    expect(rest.sessions).toHaveLength(1);
    expect(rest.nextCursor).toBeUndefined();

    for (const bad of [{ limit: 0 }, { limit: 1.5 }, { limit: Number.NaN }, { sort: 'title' }, { order: 'up' }, { cursor: 'garbage' }, { filter: { createdAfter: 'yesterday' } }, { filter: { model: 3 } }]) {
      await expect(store.list(bad as never), JSON.stringify(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    }
    await expect(store.list({ cursor: first.nextCursor as string, sort: 'createdAt' })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('returns from get(id) the same info as the list row, and reflects buffered entries', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, now: ticking() });
    const { id } = await store.create({ title: 't', metadata: { k: 1 } });
    await store.append(id, [
      { role: 'user', content: 'hi', usage: { input: 10, output: 0 } },
      { role: 'assistant', content: 'hello', usage: { input: 0, output: 5, total: 5 } },
    ]);
    // Not flushed yet: list() and get() flush first.
    const [row] = (await store.list()).sessions;
    expect(row).toMatchObject({ id, entryCount: 2, usage: { input: 10, output: 5, total: 5 }, problems: 0, conflicts: [] });
    expect(await store.get(id)).toEqual(row);
    expect(await store.get('no-such-session')).toBeUndefined();
  });

  it('without a watcher, a next page shows what other programs did to the folder since the first page', async () => {
    const dir = tempDir();
    const base = Date.parse('2025-01-01T00:00:00Z');
    {
      await using writer = await openStore({ dir, now: ticking(base) });
      for (let i = 0; i < 40; i++) await writer.create({ id: `s${String(i).padStart(2, '0')}`, title: `s${i}` });
      // Writes the index file, so that the next store only reads it.
      await writer.list();
    }
    // The folder last changed long ago, as in a store at rest: a next page may then check only its own rows.
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(dir, past, past);
    await using store = await openStore({ dir });
    const first = await store.list({ limit: 10 });
    expect(first.sessions.map((s) => s.id)).toEqual(['s39', 's38', 's37', 's36', 's35', 's34', 's33', 's32', 's31', 's30']);

    // Another program appends to s25 (on the next page) and edits its title, and deletes s24.
    const line = JSON.stringify({ type: 'session_update', id: 'u1', ts: new Date(base + 25.5).toISOString(), title: 'renamed' });
    const entry = JSON.stringify({ type: 'message', id: 'm1', ts: new Date(base + 25.5).toISOString(), role: 'user', content: 'hi' });
    fs.appendFileSync(path.join(dir, 's25.jsonl'), `${line}\n${entry}\n`);
    let next = await store.list({ limit: 10, cursor: first.nextCursor });
    expect(next.sessions.map((s) => s.title)).toContain('renamed');
    expect(next.sessions.find((s) => s.id === 's25')?.entryCount).toBe(1);

    fs.rmSync(path.join(dir, 's24.jsonl'));
    // A session copied in with old timestamps belongs on the next page: the folder changed, so it is found.
    fs.writeFileSync(path.join(dir, 'old.jsonl'), `${JSON.stringify({ type: 'session', version: 1, id: 'old', createdAt: new Date(base + 27.5).toISOString() })}\n`);
    next = await store.list({ limit: 10, cursor: first.nextCursor });
    const ids = next.sessions.map((s) => s.id);
    expect(ids).not.toContain('s24');
    expect(ids).toContain('old');
    expect(ids.indexOf('old')).toBe(ids.indexOf('s27') + 1);
  });
});

describe('latest() and resume', () => {
  it('finds the most recent session in a folder and resumes it from its latest compaction', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, now: ticking() });
    const here = '/home/me/project';
    const old = await store.create({ cwd: here, title: 'old' });
    const current = await store.create({ cwd: here, title: 'current' });
    await store.create({ cwd: '/elsewhere', title: 'newest but elsewhere' });
    await store.append(old.id, { role: 'user', content: 'old work' });
    await store.append(current.id, [
      { role: 'user', content: 'step 1' },
      { type: 'compaction', summary: 'first half' },
      { role: 'user', content: 'step 2' },
      { type: 'compaction', summary: 'steps 1-2' },
      { role: 'assistant', content: 'step 3' },
    ]);
    await store.append('' + (await store.latest({ cwd: '/elsewhere' }))?.id, { role: 'user', content: 'newest' });

    const latest = await store.latest({ cwd: here });
    expect(latest?.id).toBe(current.id);
    expect(latest?.lastCompactionOffset).toBeTypeOf('number');
    const { entries } = await store.read(current.id, { fromCompaction: true });
    expect(entries.map((e) => (e.type === 'compaction' ? e.summary : e.content))).toEqual(['steps 1-2', 'step 3']);
    expect((await store.latest())?.title).toBe('newest but elsewhere');
    expect(await store.latest({ cwd: '/nowhere' })).toBeUndefined();
  });
});
