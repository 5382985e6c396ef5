// Compile-time checks of what `append` accepts: `npm run typecheck` fails if an @ts-expect-error
// line compiles (the input types accept what validation refuses). Run as a test for the values too.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

describe('append input types', () => {
  it('reject at compile time what validation refuses at run time', async () => {
    const store = await openStore({ dir: tempDir() });
    const { id } = await store.create();
    await store.append(id, { role: 'user', content: 'fine' });
    await store.append(id, { role: 'assistant', content: 'ok', usage: { input: 1, output: 2 } });
    await store.append(id, { type: 'compaction', summary: 'so far' });
    await store.append(id, { type: 'event', anything: 1 });
    // @ts-expect-error an unknown role
    await expect(store.append(id, { role: 'robot', content: 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_ENTRY' });
    // @ts-expect-error a message without content
    await expect(store.append(id, { role: 'user' })).rejects.toMatchObject({ code: 'ERR_INVALID_ENTRY' });
    // @ts-expect-error usage counts that are not numbers
    await expect(store.append(id, { role: 'user', content: 'x', usage: { input: 'many' } })).rejects.toMatchObject({ code: 'ERR_INVALID_ENTRY' });
    await store.close();
  });

  it('take a custom schema’s input, and only that', async () => {
    const Event = z.looseObject({ type: z.literal('event'), name: z.string(), data: z.unknown() });
    const store = await openStore({ dir: tempDir(), schema: Event });
    const { id } = await store.create();
    const stored = await store.append(id, { type: 'event', name: 'tool.start', data: 1 });
    expect(stored.name).toBe('tool.start');
    // @ts-expect-error `name` must be a string
    await expect(store.append(id, { type: 'event', name: 7, data: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ENTRY' });
    // @ts-expect-error not this schema's type
    await expect(store.append(id, { role: 'user', content: 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_ENTRY' });
    await store.close();
  });
});
