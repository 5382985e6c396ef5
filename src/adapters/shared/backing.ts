/**
 * The store behind an adapter. SDKs construct their persistence objects synchronously, so an
 * adapter takes options (or an open store) and opens the store on first use.
 */
import type { StoreOptions } from '../../core/options.js';
import type { SessionStore } from '../../core/contract.js';
import type { SessionInfo } from '../../core/info.js';
import type { ListFilter } from '../../core/list-options.js';
import { SessionStoreError } from '../../core/errors.js';
import type { CreateInit } from '../../core/types.js';
import { openStore } from '../../open.js';

/** What an adapter is built on: `{ dir }` (a folder), `{ url }` (a PostgreSQL server), or an open store. */
export type StoreSource = StoreOptions | SessionStore;

function isStore(source: StoreSource): source is SessionStore {
  return typeof (source as Partial<SessionStore>).append === 'function' && typeof (source as Partial<SessionStore>).read === 'function';
}

/** Opens the store once, on first use; closes it only when it opened it. */
export class Backing {
  readonly #source: StoreSource;
  #store: Promise<SessionStore> | undefined;
  readonly #owned: boolean;

  constructor(source: StoreSource) {
    this.#source = source;
    this.#owned = !isStore(source);
    if (isStore(source)) this.#store = Promise.resolve(source);
  }

  /** The store, opened now if it was not. */
  store(): Promise<SessionStore> {
    this.#store ??= openStore(this.#source as StoreOptions) as Promise<SessionStore>;
    return this.#store;
  }

  /** Closes the store if the adapter opened it (an open store passed in stays open: its owner closes it). */
  async close(): Promise<void> {
    if (!this.#owned || this.#store === undefined) return;
    const store = await this.#store;
    await store.close();
  }
}

/** Runs tasks one after another per key, each to its end (appends to one session keep call order). */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(task);
    const tail = run.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }
}

/** Every session matching `filter`, page by page (the store's cursor: nothing missed while others write). */
export async function* eachSession(store: SessionStore, filter: ListFilter): AsyncGenerator<SessionInfo> {
  let cursor: string | undefined;
  do {
    const page = await store.list({ filter, limit: 1000, cursor });
    yield* page.sessions;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/**
 * The session `id`, created with `init` when there is none. Another process creating it at the
 * same moment is not an error: both then write to the one session.
 */
export async function ensureSession(store: SessionStore, id: string, init: Omit<CreateInit, 'id'>): Promise<SessionInfo> {
  const info = await store.get(id);
  if (info !== undefined) return info;
  try {
    return await store.create({ ...init, id });
  } catch (err) {
    if (!(err instanceof SessionStoreError && err.code === 'ERR_SESSION_EXISTS')) throw err;
    const created = await store.get(id);
    if (created === undefined) throw err;
    return created;
  }
}
