/** `openStore`: the one entry point, which picks the backend from its options. */
import type { z } from 'zod';
import { SessionStoreError } from './core/errors.js';
import { countOption, type FileStoreOptions, type PostgresStoreOptions, resolveCommon, resolveOptions, type StoreOptions } from './core/options.js';
import type { EntrySchema } from './format/schema.js';
import type { SessionStore } from './core/contract.js';
import { applyRetention, type RetentionOptions } from './core/retention.js';
import { FileSessionStore } from './file/store.js';
import type { PostgresSessionStore } from './postgres/store.js';

/** Connections a PostgreSQL store opens at most when `maxConnections` is not given. */
const DEFAULT_MAX_CONNECTIONS = 4;

/**
 * Opens a store: `{ dir }` a folder of session files (created 0700 if missing), `{ url }` a
 * PostgreSQL database (its tables created or migrated). Both implement `SessionStore`.
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
 * @throws ERR_INVALID_OPTION, ERR_IO; for a server also ERR_UNAVAILABLE, ERR_AUTH, ERR_UNSUPPORTED_VERSION
 */
export async function openStore<S extends z.ZodType = typeof EntrySchema>(options: FileStoreOptions<S>): Promise<FileSessionStore<S>>;
export async function openStore<S extends z.ZodType = typeof EntrySchema>(options: PostgresStoreOptions<S>): Promise<PostgresSessionStore<S>>;
export async function openStore<S extends z.ZodType = typeof EntrySchema>(options: StoreOptions<S>): Promise<FileSessionStore<S> | PostgresSessionStore<S>>;
export async function openStore<S extends z.ZodType = typeof EntrySchema>(options: StoreOptions<S>): Promise<FileSessionStore<S> | PostgresSessionStore<S>> {
  if (typeof options === 'object' && options !== null && options.url !== undefined) {
    if (options.dir !== undefined) throw new SessionStoreError('ERR_INVALID_OPTION', 'Pass either `dir` (a folder) or `url` (a server), not both.');
    const { checkUrl } = await import('./postgres/connect.js');
    const url = checkUrl(options.url);
    const common = resolveCommon(options);
    const maxConnections = countOption('maxConnections', options.maxConnections, DEFAULT_MAX_CONNECTIONS, 1);
    // Loaded only for a server: a folder store never loads the driver.
    const { PostgresSessionStore: Store } = await import('./postgres/store.js');
    return withRetention(await Store.open<S>(Object.freeze({ ...common, url, maxConnections }), options.schema), options.retention);
  }
  return withRetention(await FileSessionStore.open(resolveOptions(options as FileStoreOptions), (options).schema), options.retention);
}

/** The store, after `retention` (when given) moved its old sessions to the trash. */
async function withRetention<T extends { close(): Promise<void> }>(store: T, retention: RetentionOptions | undefined): Promise<T> {
  if (retention === undefined) return store;
  try {
    await applyRetention(store as unknown as SessionStore, retention);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
