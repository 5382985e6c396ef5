/**
 * The Claude Agent SDK's SessionStore contract, one test per rule of its typings (and of the 13
 * checks Anthropic's adapters are held to), written for any store built by `make`.
 */
import { expect, it } from 'vitest';
import type { SessionKey, SessionStoreEntry } from '@anthropic-ai/claude-agent-sdk';
import type { ClaudeSessionStore } from '../../src/adapters/claude-agent-sdk/index.js';

const KEY: SessionKey = { projectKey: 'proj', sessionId: 'sess' };
const sub = (subpath: string): SessionKey => ({ ...KEY, subpath });
const e = (type: string, extra: Record<string, unknown> = {}): SessionStoreEntry => ({ type, ...extra });

/** Registers the contract's tests; `make` returns a fresh, empty adapter. */
export function claudeContract(make: () => Promise<ClaudeSessionStore>): void {
  it('load returns what was appended, deep-equal and in order, or null for a key never written', async () => {
    const store = await make();
    expect(await store.load(KEY)).toBeNull();
    expect(await store.load(sub('subagents/a'))).toBeNull();
    const entries = [e('a', { n: 1, nested: { x: [1, 2], s: 'ü\u2028"' } }), e('b', { n: 2, nil: null })];
    await store.append(KEY, entries);
    await store.append(KEY, [e('c')]);
    await store.append(KEY, [e('d'), e('e')]);
    expect(await store.load(KEY)).toEqual([...entries, e('c'), e('d'), e('e')]);
  });

  it('append([]) writes nothing and creates no session', async () => {
    const store = await make();
    await store.append(KEY, []);
    expect(await store.load(KEY)).toBeNull();
    expect(await store.listSessions('proj')).toEqual([]);
    await store.append(KEY, [e('a')]);
    await store.append(KEY, []);
    expect(await store.load(KEY)).toEqual([e('a')]);
  });

  it('uuid is an idempotency key (retries and replays); entries without one are appended as they come', async () => {
    const store = await make();
    const batch = [e('user', { uuid: 'u1' }), e('assistant', { uuid: 'u2' }), e('custom-title', { customTitle: 'T' })];
    await store.append(KEY, batch);
    await store.append(KEY, batch);
    await store.append(KEY, [e('user', { uuid: 'u3' }), e('user', { uuid: 'u3' })]);
    expect((await store.load(KEY))?.map((x) => x['uuid'] ?? x.type)).toEqual(['u1', 'u2', 'custom-title', 'custom-title', 'u3']);
  });

  it('subpaths are stored apart from their session, and projectKeys apart from each other', async () => {
    const store = await make();
    await store.append(KEY, [e('main')]);
    await store.append(sub('subagents/x'), [e('sub')]);
    await store.append({ projectKey: 'other', sessionId: 'sess' }, [e('other')]);
    expect(await store.load(KEY)).toEqual([e('main')]);
    expect(await store.load(sub('subagents/x'))).toEqual([e('sub')]);
    expect(await store.load({ projectKey: 'other', sessionId: 'sess' })).toEqual([e('other')]);
  });

  it('listSessions: the main transcripts of one projectKey, mtime in epoch ms', async () => {
    const store = await make();
    const before = Date.now();
    await store.append({ projectKey: 'P', sessionId: 's1' }, [e('a')]);
    await store.append({ projectKey: 'P', sessionId: 's2' }, [e('b')]);
    await store.append({ projectKey: 'P', sessionId: 's3', subpath: 'subagents/x' }, [e('sub')]);
    await store.append({ projectKey: 'Q', sessionId: 's4' }, [e('c')]);
    const listed = await store.listSessions('P');
    expect(listed.map((s) => s.sessionId).sort()).toEqual(['s1', 's2']);
    for (const { mtime } of listed) {
      expect(Number.isInteger(mtime)).toBe(true);
      expect(mtime).toBeGreaterThanOrEqual(before - 1000);
      expect(mtime).toBeLessThanOrEqual(Date.now());
    }
    expect(await store.listSessions('never-seen')).toEqual([]);
  });

  it('deleting a session deletes its subagents and nothing else; deleting a subpath deletes only it', async () => {
    const store = await make();
    await store.append(KEY, [e('main')]);
    await store.append(sub('subagents/a'), [e('sa')]);
    await store.append(sub('subagents/b'), [e('sb')]);
    await store.append({ projectKey: 'proj', sessionId: 'other' }, [e('o')]);
    await store.append({ projectKey: 'proj2', sessionId: 'sess' }, [e('p2')]);
    await store.delete(sub('subagents/a'));
    expect(await store.load(sub('subagents/a'))).toBeNull();
    expect(await store.load(sub('subagents/b'))).toEqual([e('sb')]);
    expect(await store.load(KEY)).toEqual([e('main')]);
    await store.delete(KEY);
    expect(await store.load(KEY)).toBeNull();
    expect(await store.load(sub('subagents/b'))).toBeNull();
    expect(await store.listSubkeys(KEY)).toEqual([]);
    expect(await store.load({ projectKey: 'proj', sessionId: 'other' })).toEqual([e('o')]);
    expect(await store.load({ projectKey: 'proj2', sessionId: 'sess' })).toEqual([e('p2')]);
    await store.delete({ projectKey: 'x', sessionId: 'never' });
  });

  it('listSubkeys: the subpaths of one session, never the main transcript', async () => {
    const store = await make();
    await store.append(KEY, [e('main')]);
    expect(await store.listSubkeys(KEY)).toEqual([]);
    await store.append(sub('subagents/a'), [e('sa')]);
    await store.append(sub('subagents/b'), [e('sb')]);
    await store.append({ projectKey: 'proj', sessionId: 'other', subpath: 'subagents/c' }, [e('sc')]);
    expect((await store.listSubkeys(KEY)).sort()).toEqual(['subagents/a', 'subagents/b']);
    expect(await store.listSubkeys({ projectKey: 'x', sessionId: 'never' })).toEqual([]);
  });

  it('keys with any characters map to distinct, valid, readable sessions', async () => {
    const store = await make();
    const keys: SessionKey[] = [
      { projectKey: '/home/dev/my project', sessionId: 'a/b' },
      { projectKey: '/home/dev/my project', sessionId: 'a_b' },
      { projectKey: '../../etc', sessionId: '..' },
      { projectKey: 'ü'.repeat(300), sessionId: 'x'.repeat(300), subpath: 'subagents/agent-ü' },
    ];
    for (const [n, key] of keys.entries()) await store.append(key, [e('n', { n })]);
    for (const [n, key] of keys.entries()) expect(await store.load(key)).toEqual([e('n', { n })]);
    const ids = await (await store.store()).ids();
    expect(new Set(ids).size).toBe(keys.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
    expect(ids.some((id) => id.startsWith('a_b.'))).toBe(true);
  });

  it('listSessionSummaries keeps the SDK summary (foldSessionSummary), on the clock of listSessions', async () => {
    const store = await make();
    await store.append(KEY, [e('user', { uuid: 'u1', timestamp: '2026-01-01T00:00:00.000Z', cwd: '/w', message: { role: 'user', content: 'Fix the build' } })]);
    await store.append(KEY, [e('custom-title', { customTitle: 'Build fix' })]);
    await store.append(sub('subagents/a'), [e('user', { uuid: 's1', message: { role: 'user', content: 'sub' } })]);
    const [summary] = await store.listSessionSummaries('proj');
    expect(summary?.sessionId).toBe('sess');
    expect(summary?.data).toMatchObject({ firstPrompt: 'Fix the build', customTitle: 'Build fix', cwd: '/w' });
    expect(summary?.mtime).toBe((await store.listSessions('proj'))[0]?.mtime);
    const info = (await (await store.store()).list()).sessions.find((s) => s.metadata['claude.subpath'] === undefined);
    expect([info?.title, info?.cwd]).toEqual(['Build fix', '/w']);
  });
}
