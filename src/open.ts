/** `openStore`: the one entry point, which picks the backend from its options. */
import type { z } from 'zod';
import { resolveOptions, type StoreOptions } from './core/options.js';
import type { EntrySchema } from './format/schema.js';
import { FileSessionStore } from './file/store.js';

/**
 * Opens a store. `{ dir }` opens (and creates, mode 0700) a folder of session files.
 *
 * @example
 * ```ts
 * import { openStore } from 'sessionlog';
 * const store = await openStore({ dir: './sessions' });
 * const { id } = await store.create({ title: 'Fix the build', cwd: process.cwd() });
 * await store.append(id, { role: 'user', content: 'The build fails on Node 20.' });
 * await store.flush(id);
 * const { entries, problems } = await store.read(id, { tail: 50 });
 * await store.close();
 * ```
 * @throws ERR_INVALID_OPTION, ERR_IO
 */
export async function openStore<S extends z.ZodType = typeof EntrySchema>(options: StoreOptions<S>): Promise<FileSessionStore<S>> {
  return FileSessionStore.open(resolveOptions(options), options.schema);
}
