/**
 * `sessionlog/langgraph`: a LangGraph.js checkpoint saver on a sessionlog store. A thread is a
 * session; checkpoints, channel values and pending writes are typed entries (see thread.ts).
 * Each thread's state is folded once per process and brought up to date from the entries other
 * processes appended since.
 */
import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type CheckpointListOptions,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  writesSortKey,
} from '@langchain/langgraph-checkpoint';
import type { SessionStore } from '../../core/contract.js';
import { jsonEqual } from '../../core/list-query.js';
import type { EntryInput } from '../../format/schema.js';
import { Backing, eachSession, ensureSession, KeyedQueue, type StoreSource } from '../shared/backing.js';
import { upToDate } from '../shared/fold.js';
import { sessionIdFor } from '../shared/key-id.js';
import { type Checkpoint, type CheckpointEntry, type CheckpointMetadata, type StoredValue, type ThreadEntry, ThreadState, withoutValues, writeIndex } from './thread.js';

export type { StoreSource } from '../shared/backing.js';

/** Metadata of a thread's session: the exact thread id. */
const THREAD_KEY = 'langgraph.threadId';

/** The sessionlog session id of a LangGraph thread. */
export function threadSessionId(threadId: string): string {
  return sessionIdFor('langgraph', [threadId]);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`SessionlogSaver: the config has no ${what} (configurable.${what}); pass one, e.g. { configurable: { thread_id: 'my-thread' } }.`);
  return value;
}

/**
 * A LangGraph `BaseCheckpointSaver` that keeps every thread as a sessionlog session.
 *
 * @example
 * ```ts
 * import { SessionlogSaver } from 'sessionlog/langgraph';
 * const checkpointer = new SessionlogSaver({ dir: './sessions' });
 * const graph = workflow.compile({ checkpointer });
 * await graph.invoke(input, { configurable: { thread_id: 'support-42' } });
 * ```
 */
export class SessionlogSaver extends BaseCheckpointSaver {
  readonly #backing: Backing;
  readonly #queue = new KeyedQueue();
  readonly #threads = new Map<string, ThreadState>();

  /** @param source `{ dir }`, `{ url }` or an open sessionlog store; `serde` as any saver's. */
  constructor(source: StoreSource, serde?: SerializerProtocol) {
    super(serde);
    this.#backing = new Backing(source);
  }

  /** The checkpoint named by `config` (or the thread's latest), its metadata, parent and pending writes. */
  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.['thread_id'] as unknown;
    if (typeof threadId !== 'string') return undefined;
    const ns = (config.configurable?.['checkpoint_ns'] as string | undefined) ?? '';
    const wanted = config.configurable?.['checkpoint_id'] as string | undefined;
    const state = await this.#state(threadId);
    const entry = state?.checkpoint(ns, wanted === '' ? undefined : wanted);
    if (state === undefined || entry === undefined) return undefined;
    return this.#tuple(state, threadId, entry);
  }

  /** Checkpoints newest first: of one thread (and namespace) or of all, filtered by metadata, before a checkpoint, up to `limit`. */
  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options;
    let { limit } = options;
    const threadId = config.configurable?.['thread_id'] as string | undefined;
    const onlyNs = config.configurable?.['checkpoint_ns'] as string | undefined;
    const onlyId = config.configurable?.['checkpoint_id'] as string | undefined;
    const beforeId = before?.configurable?.['checkpoint_id'] as string | undefined;
    for (const thread of threadId === undefined ? await this.#threadIds() : [threadId]) {
      const state = await this.#state(thread);
      if (state === undefined) continue;
      for (const ns of state.namespaces()) {
        if (onlyNs !== undefined && ns !== onlyNs) continue;
        for (const entry of state.checkpoints(ns)) {
          if (onlyId !== undefined && onlyId !== '' && entry.checkpointId !== onlyId) continue;
          if (beforeId !== undefined && entry.checkpointId >= beforeId) continue;
          const metadata = (await this.#load(entry.metadata)) as Record<string, unknown>;
          if (filter !== undefined && !Object.entries(filter).every(([key, value]) => jsonEqual(metadata[key], value))) continue;
          if (limit !== undefined) {
            if (limit <= 0) return;
            limit -= 1;
          }
          yield await this.#tuple(state, thread, entry);
        }
      }
    }
  }

  /** Stores a checkpoint; of its channel values only those `newVersions` names as changed. */
  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    const threadId = requireString(config.configurable?.['thread_id'], 'thread_id');
    const ns = (config.configurable?.['checkpoint_ns'] as string | undefined) ?? '';
    const parentId = config.configurable?.['checkpoint_id'] as string | undefined;
    await this.#write(threadId, async (state) => {
      const entries: ThreadEntry[] = [];
      for (const [channel, version] of Object.entries(newVersions)) {
        if (!Object.hasOwn(checkpoint.channel_values, channel) || state.hasBlob(ns, channel, version)) continue;
        entries.push({ type: 'langgraph.blob', ns, channel, version, value: await this.#dump(checkpoint.channel_values[channel]) });
      }
      entries.push({
        type: 'langgraph.checkpoint',
        ns,
        checkpointId: checkpoint.id,
        ...(parentId === undefined || parentId === '' ? {} : { parentId }),
        checkpoint: await this.#dump(withoutValues(checkpoint)),
        metadata: await this.#dump(metadata),
      });
      return entries;
    });
    return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id } };
  }

  /** Stores the pending writes of one task against the checkpoint named by `config`. */
  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ''): Promise<void> {
    const threadId = requireString(config.configurable?.['thread_id'], 'thread_id');
    const checkpointId = requireString(config.configurable?.['checkpoint_id'], 'checkpoint_id');
    const ns = (config.configurable?.['checkpoint_ns'] as string | undefined) ?? '';
    await this.#write(threadId, async (state) => {
      const kept: { channel: string; idx: number; value: StoredValue }[] = [];
      for (const [i, [channel, value]] of writes.entries()) {
        const idx = writeIndex(channel, i);
        if (state.keeps(ns, checkpointId, taskId, idx)) kept.push({ channel, idx, value: await this.#dump(value) });
      }
      return kept.length === 0 ? [] : [{ type: 'langgraph.writes', ns, checkpointId, taskId, taskPath, writes: kept }];
    });
  }

  /** Deletes the thread's session: its checkpoints and writes. */
  async deleteThread(threadId: string): Promise<void> {
    const store = await this.#backing.store();
    const id = threadSessionId(threadId);
    await this.#queue.run(id, async () => {
      this.#threads.delete(id);
      await store.delete(id);
    });
  }

  /** Closes the store if this saver opened it. */
  close(): Promise<void> {
    return this.#backing.close();
  }

  /** The thread's state, brought up to date; undefined when the thread has no session. */
  async #state(threadId: string): Promise<ThreadState | undefined> {
    const store = await this.#backing.store();
    const id = threadSessionId(threadId);
    return this.#queue.run(id, () => this.#refresh(store, id));
  }

  async #refresh(store: SessionStore, id: string): Promise<ThreadState | undefined> {
    const state = await upToDate(store, id, this.#threads.get(id), () => new ThreadState());
    if (state === undefined) this.#threads.delete(id);
    else this.#threads.set(id, state);
    return state;
  }

  /** Appends what `build` makes of the thread's current state, durably (a resolved flush), one writer per thread. */
  async #write(threadId: string, build: (state: ThreadState) => Promise<ThreadEntry[]>): Promise<void> {
    const store = await this.#backing.store();
    const id = threadSessionId(threadId);
    await this.#queue.run(id, async () => {
      // Unchecked state is good enough here: it only spares writing a value or write already
      // stored, and folding keeps the first of two copies.
      let state = this.#threads.get(id) ?? (await this.#refresh(store, id));
      if (state === undefined) {
        await ensureSession(store, id, { title: `LangGraph thread ${threadId}`.slice(0, 200), metadata: { [THREAD_KEY]: threadId } });
        state = new ThreadState();
        this.#threads.set(id, state);
      }
      const entries = await build(state);
      if (entries.length === 0) return;
      const written = await store.append(id, entries as unknown as EntryInput[]);
      await store.flush(id);
      state.foldOwn(written);
    });
  }

  async #threadIds(): Promise<string[]> {
    const store = await this.#backing.store();
    const out: string[] = [];
    for await (const info of eachSession(store, {})) {
      const threadId = info.metadata[THREAD_KEY];
      if (typeof threadId === 'string') out.push(threadId);
    }
    return out;
  }

  async #tuple(state: ThreadState, threadId: string, entry: CheckpointEntry): Promise<CheckpointTuple> {
    const { ns, checkpointId, parentId } = entry;
    const checkpoint = (await this.#load(entry.checkpoint)) as Checkpoint;
    checkpoint.channel_values = {};
    for (const [channel, version] of Object.entries(checkpoint.channel_versions)) {
      const blob = state.blob(ns, channel, version);
      if (blob !== undefined) checkpoint.channel_values[channel] = await this.#load(blob);
    }
    if (checkpoint.v < 4 && parentId !== undefined) await this.#migratePendingSends(state, checkpoint, ns, parentId);
    const ordered = state.writes(ns, checkpointId).sort((a, b) => compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx), writesSortKey(b.taskPath, b.taskId, b.idx)));
    const pendingWrites: CheckpointPendingWrite[] = [];
    for (const w of ordered) pendingWrites.push([w.taskId, w.channel, await this.#load(w.value)]);
    return {
      config: { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId } },
      checkpoint,
      metadata: (await this.#load(entry.metadata)) as CheckpointMetadata,
      pendingWrites,
      ...(parentId === undefined ? {} : { parentConfig: { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: parentId } } }),
    };
  }

  /** Checkpoints before format 4 kept pending sends as writes of their parent: move them into the checkpoint, as LangGraph's savers do. */
  async #migratePendingSends(state: ThreadState, checkpoint: Checkpoint, ns: string, parentId: string): Promise<void> {
    const sends: unknown[] = [];
    for (const w of state.writes(ns, parentId)) if (w.channel === TASKS) sends.push(await this.#load(w.value));
    checkpoint.channel_values[TASKS] = sends;
    const versions = Object.values(checkpoint.channel_versions);
    checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
  }

  async #dump(value: unknown): Promise<StoredValue> {
    const [type, bytes] = await this.serde.dumpsTyped(value);
    if (type === 'json') {
      const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
      return { t: 'json', v: JSON.parse(text) as unknown };
    }
    return { t: type, b64: Buffer.from(bytes).toString('base64') };
  }

  async #load(stored: StoredValue): Promise<unknown> {
    if ('v' in stored) return this.serde.loadsTyped('json', JSON.stringify(stored.v));
    return this.serde.loadsTyped(stored.t, new Uint8Array(Buffer.from(stored.b64, 'base64')));
  }
}
