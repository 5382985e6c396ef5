/**
 * `sessionlog/openai-agents`: an OpenAI Agents SDK `Session` on a sessionlog store, behaving as
 * the SDK's `MemorySession`, persisted. The session is append-only underneath, as every sessionlog
 * session is: an item added is an `openai.item` entry; `popItem` appends an `openai.pop` naming the
 * item it removed; `clearSession` an `openai.clear`; a history rewrite an `openai.history` holding the
 * new list. The items are those entries folded, so nothing once written is lost from the file.
 */
import { randomUUID } from 'node:crypto';
import {
  type AgentInputItem,
  applySessionHistoryMutations,
  type SessionHistoryRewriteArgs,
  type SessionHistoryRewriteAwareSession,
} from '@openai/agents-core';
import type { StoreOptions } from '../../core/options.js';
import type { SessionStore } from '../../core/contract.js';
import type { EntryInput } from '../../format/schema.js';
import { Backing, ensureSession, KeyedQueue } from '../shared/backing.js';
import { EntryFold, upToDate } from '../shared/fold.js';
import { sessionIdFor } from '../shared/key-id.js';

/** Options of {@link SessionlogSession}: where (`dir`, `url` or an open `store`) and which session. */
export type SessionlogSessionOptions = (StoreOptions | { readonly store: SessionStore }) & {
  /** The SDK's session id; a random UUID when absent (as `MemorySession`). */
  readonly sessionId?: string;
};

/** The sessionlog session id of an OpenAI Agents session id. */
export function agentsSessionId(sessionId: string): string {
  return sessionIdFor('openai-agents', [sessionId]);
}

/** The items an agents session's entries add up to. */
class Items extends EntryFold {
  items: { readonly entryId: string; readonly item: AgentInputItem }[] = [];

  protected apply(entry: { readonly type: string; readonly id: string }): void {
    const e = entry as { type: string; id: string; item?: AgentInputItem; target?: string; items?: AgentInputItem[] };
    if (e.type === 'openai.item' && e.item !== undefined) this.items.push({ entryId: e.id, item: e.item });
    else if (e.type === 'openai.pop') this.items = this.items.filter((kept) => kept.entryId !== e.target);
    else if (e.type === 'openai.clear') this.items = [];
    else if (e.type === 'openai.history') this.items = (e.items ?? []).map((item, i) => ({ entryId: `${e.id}#${i}`, item }));
  }
}

/**
 * An OpenAI Agents SDK session kept in a sessionlog store.
 *
 * @example
 * ```ts
 * import { Agent, run } from '@openai/agents';
 * import { SessionlogSession } from 'sessionlog/openai-agents';
 * const session = new SessionlogSession({ dir: './sessions', sessionId: 'support-42' });
 * await run(new Agent({ name: 'Assistant' }), 'Hello', { session });
 * ```
 */
export class SessionlogSession implements SessionHistoryRewriteAwareSession {
  readonly #backing: Backing;
  readonly #sessionId: string;
  readonly #id: string;
  readonly #queue = new KeyedQueue();
  #state: Items | undefined;
  /** Whether the session is known to exist (created by this or another instance). */
  #exists = false;

  constructor(options: SessionlogSessionOptions) {
    const { sessionId, ...source } = options;
    this.#backing = new Backing('store' in source ? source.store : source);
    this.#sessionId = sessionId ?? randomUUID();
    this.#id = agentsSessionId(this.#sessionId);
  }

  /** The SDK's session id (the sessionlog session id is {@link agentsSessionId} of it). */
  async getSessionId(): Promise<string> {
    return this.#sessionId;
  }

  /** The items in order; with `limit`, the latest `limit` of them (none for 0 or less). */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const items = (await this.#run(async (state) => state.items)).map((kept) => structuredClone(kept.item));
    if (limit === undefined) return items;
    return limit <= 0 ? [] : items.slice(Math.max(items.length - limit, 0));
  }

  /** Appends items; resolved once they are written (a resolved flush). */
  async addItems(items: AgentInputItem[]): Promise<void> {
    if (items.length === 0) return;
    const store = await this.#backing.store();
    // Appending needs no up-to-date state: no `get` before it.
    await this.#queue.run(this.#id, async () => {
      if (!this.#exists) await this.#ensure(store);
      const written = await store.append(this.#id, items.map((item) => ({ type: 'openai.item', item })) as EntryInput[]);
      await store.flush(this.#id);
      // Folded at once (no read back); the next read checks nobody else appended meanwhile.
      this.#state?.foldOwn(written);
    });
  }

  /** Removes and returns the latest item; undefined when there is none. */
  async popItem(): Promise<AgentInputItem | undefined> {
    let popped: AgentInputItem | undefined;
    await this.#write((state) => {
      const last = state.items.at(-1);
      if (last === undefined) return [];
      popped = structuredClone(last.item);
      return [{ type: 'openai.pop', target: last.entryId }];
    });
    return popped;
  }

  /** Empties the history (appending a marker: the earlier lines stay in the file, as history). */
  async clearSession(): Promise<void> {
    await this.#write((state) => (state.items.length === 0 && state.entryCount === 0 ? [] : [{ type: 'openai.clear' }]));
  }

  /** Applies the SDK's history rewrites (as `MemorySession` does) and stores the list they give. */
  async applyHistoryMutations(args: SessionHistoryRewriteArgs): Promise<void> {
    if (args.mutations.length === 0) return;
    await this.#write((state) => {
      const items = applySessionHistoryMutations(state.items.map((kept) => kept.item), args.mutations);
      return [{ type: 'openai.history', items }];
    });
  }

  /** Closes the store if this session opened it. */
  close(): Promise<void> {
    return this.#backing.close();
  }

  /** Runs `task` on the items brought up to date; `exists` says whether the session does yet. */
  async #run<T>(task: (state: Items, store: SessionStore) => Promise<T>): Promise<T> {
    const store = await this.#backing.store();
    return this.#queue.run(this.#id, async () => {
      const state = await upToDate(store, this.#id, this.#state, () => new Items());
      this.#exists = state !== undefined;
      this.#state = state ?? new Items();
      return task(this.#state, store);
    });
  }

  async #ensure(store: SessionStore): Promise<void> {
    await ensureSession(store, this.#id, { title: `OpenAI Agents session ${this.#sessionId}`.slice(0, 200), metadata: { 'openai.sessionId': this.#sessionId } });
    this.#exists = true;
  }

  async #write(make: (state: Items) => Record<string, unknown>[]): Promise<void> {
    await this.#run(async (state, store) => {
      const entries = make(state);
      if (entries.length === 0) return;
      if (!this.#exists) await this.#ensure(store);
      const written = await store.append(this.#id, entries as EntryInput[]);
      await store.flush(this.#id);
      state.foldOwn(written);
    });
  }
}
