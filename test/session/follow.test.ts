/** store.follow(): the tail, then every new entry exactly once, from this process or the file. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

describe('follow', () => {
  it('yields the last entries, then appends from this store and from outside, until aborted', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, flush: { intervalMs: 5 } });
    await store.create({ id: 's' });
    await store.append('s', [1, 2, 3].map((n) => ({ id: `e${n}`, role: 'user' as const, content: `m${n}` })));
    const ac = new AbortController();
    const got: string[] = [];
    const problems: string[] = [];
    const following = (async () => {
      for await (const entry of store.follow('s', { tail: 2, signal: ac.signal, pollIntervalMs: 20, onProblem: (p) => problems.push(p.kind) })) got.push(entry.id);
    })();
    await waitFor('the tail', () => got.length === 2);
    await store.append('s', { id: 'e4', role: 'user', content: 'm4' });
    await waitFor('a local append', () => got.includes('e4'));
    // Another program appends: a torn line first, completed later, then a bad line and an entry.
    const file = path.join(dir, 's.jsonl');
    fs.appendFileSync(file, '{"id":"e5","role":"user",');
    fs.appendFileSync(file, '"content":"m5"}\nnot json\n{"id":"e6","role":"user","content":"m6"}\n');
    await waitFor('external appends', () => got.includes('e6'));
    // A repair replaces the file: following goes on after the last entry seen.
    await store.repair('s');
    await store.append('s', { id: 'e7', role: 'user', content: 'm7' });
    await waitFor('an append after the repair', () => got.includes('e7'));
    ac.abort();
    await following;
    expect(got).toEqual(['e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    expect(problems).toEqual(['invalid-json']);
    await store.close();
  });

  it('ends with ERR_SESSION_NOT_FOUND when the session is deleted while followed', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    await store.append('s', { id: 'e1', role: 'user', content: 'm1' });
    const got: string[] = [];
    const following = expect(
      (async () => {
        for await (const entry of store.follow('s', { tail: 1, pollIntervalMs: 10 })) got.push(entry.id);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
    await waitFor('the tail', () => got.length === 1);
    await store.delete('s');
    await following;
    await store.close();
  });
});
