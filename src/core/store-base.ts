/**
 * What every backend's store does the same way over the contract's own methods: its figures,
 * late usage records, and `await using`. A backend extends this instead of `EventEmitter`.
 */
import { EventEmitter } from 'node:events';
import type { StoreEventMap } from './contract.js';
import type { UsageTotals } from './info.js';
import { type SessionStats, StatsFold } from './stats.js';
import type { SessionInfo } from './info.js';

/** The contract methods the shared ones are built on. */
interface Reads {
  get(id: string): Promise<SessionInfo | undefined>;
  stream(id: string): AsyncIterable<{ readonly type: string; readonly id: string; readonly ts: string }>;
  append(id: string, entries: readonly Record<string, unknown>[]): Promise<unknown>;
  flush(id?: string): Promise<void>;
  close(): Promise<void>;
}

/** The shared part of every backend. */
export abstract class StoreBase extends EventEmitter<StoreEventMap> {
  /** {@inheritDoc SessionStore.stats} */
  async stats(id: string): Promise<SessionStats> {
    const self = this as unknown as Reads;
    const info = await self.get(id);
    const fold = new StatsFold(id, info?.model);
    for await (const entry of self.stream(id)) fold.add(entry);
    return fold.result();
  }

  /** {@inheritDoc SessionStore.updateUsage} */
  async updateUsage(id: string, entryId: string | undefined, usage: Partial<UsageTotals> & { model?: string }): Promise<void> {
    const self = this as unknown as Reads;
    const { model, ...counts } = usage;
    await self.append(id, [{ type: 'usage', ...(entryId === undefined ? {} : { entryId }), ...(model === undefined ? {} : { model }), usage: counts }]);
    await self.flush(id);
  }

  /** Alias of `close()` for `await using store = await openStore(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return (this as unknown as Reads).close();
  }
}

const unguardedOf = new WeakMap<object, object>();

/**
 * `part` (a store's `artifacts` or `embeddings`) with every method first checking that its store
 * is open: after `close()` a call rejects with the store's ERR_CLOSED, as the store's own calls do,
 * instead of writing into a folder or pool the caller has let go. The store's own cascades (a
 * delete that began before `close()`) use {@link unguarded} and finish. `track` runs each call (a
 * backend counts them, so that `close()` waits for the ones in flight).
 */
export function whileOpen<T extends object>(part: T, assertOpen: () => void, track: <R>(task: () => Promise<R>) => Promise<R> = (task) => task()): T {
  const guarded = new Proxy(part, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      // Every method of a part is async: the check's error becomes a rejection, as the store's is.
      return async (...args: unknown[]): Promise<unknown> => {
        assertOpen();
        return track(async () => (value as (...a: unknown[]) => unknown).apply(target, args));
      };
    },
  });
  unguardedOf.set(guarded, part);
  return guarded;
}

/** The part behind {@link whileOpen}'s guard, for the store's own use. */
export function unguarded<T extends object>(guarded: T): T {
  return (unguardedOf.get(guarded) as T | undefined) ?? guarded;
}
