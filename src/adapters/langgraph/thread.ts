/**
 * One LangGraph thread as sessionlog entries, and the state folded from them. Entries:
 * - `langgraph.checkpoint`: a checkpoint without its channel values (`channel_values` stays in the
 *   blobs), its metadata, its namespace and parent;
 * - `langgraph.blob`: the value of one channel at one version, written when `put` says the channel
 *   changed (`newVersions`): a checkpoint that changes one channel of ten stores one value;
 * - `langgraph.writes`: the pending writes of one task against one checkpoint.
 * Values are the saver's serializer output: JSON kept as JSON (readable, greppable), other kinds
 * as base64.
 */
import { WRITES_IDX_MAP, type Checkpoint, type CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import { EntryFold } from '../shared/fold.js';

/** A serialized value: `json` kept as parsed JSON, anything else as base64 bytes. */
export type StoredValue = { readonly t: 'json'; readonly v: unknown } | { readonly t: string; readonly b64: string };

/** `langgraph.checkpoint` */
export interface CheckpointEntry {
  readonly type: 'langgraph.checkpoint';
  readonly ns: string;
  readonly checkpointId: string;
  readonly parentId?: string | undefined;
  /** The checkpoint with `channel_values` left out (serialized without it). */
  readonly checkpoint: StoredValue;
  readonly metadata: StoredValue;
}

/** `langgraph.blob` */
export interface BlobEntry {
  readonly type: 'langgraph.blob';
  readonly ns: string;
  readonly channel: string;
  readonly version: string | number;
  readonly value: StoredValue;
}

/** `langgraph.writes` */
export interface WritesEntry {
  readonly type: 'langgraph.writes';
  readonly ns: string;
  readonly checkpointId: string;
  readonly taskId: string;
  readonly taskPath: string;
  readonly writes: readonly { readonly channel: string; readonly idx: number; readonly value: StoredValue }[];
}

export type ThreadEntry = CheckpointEntry | BlobEntry | WritesEntry;

/** A pending write as kept: task, channel, value, task path, and its index within the task. */
export interface KeptWrite {
  readonly taskId: string;
  readonly channel: string;
  readonly value: StoredValue;
  readonly taskPath: string;
  readonly idx: number;
}

/** Checkpoints of one namespace by id, and their writes. */
interface Namespace {
  readonly checkpoints: Map<string, CheckpointEntry>;
  /** checkpoint id → `${taskId},${idx}` → write */
  readonly writes: Map<string, Map<string, KeptWrite>>;
}

/** What a thread's entries add up to. Folded in file order; a later checkpoint with the same id replaces the earlier. */
export class ThreadState extends EntryFold {
  readonly #namespaces = new Map<string, Namespace>();
  readonly #blobs = new Map<string, StoredValue>();

  /** Folds one entry; entries of other types (a hand-added note) are passed over. */
  protected apply(entry: { readonly type: string; readonly id: string }): void {
    const e = entry as unknown as ThreadEntry;
    if (e.type === 'langgraph.checkpoint') this.#ns(e.ns).checkpoints.set(e.checkpointId, e);
    else if (e.type === 'langgraph.blob') this.#blobs.set(blobKey(e.ns, e.channel, e.version), e.value);
    else if (e.type === 'langgraph.writes') this.#foldWrites(e);
  }

  /** The namespaces holding checkpoints. */
  namespaces(): string[] {
    return [...this.#namespaces.keys()];
  }

  /** One checkpoint of `ns`, or the latest (greatest id) when `checkpointId` is undefined. */
  checkpoint(ns: string, checkpointId: string | undefined): CheckpointEntry | undefined {
    const checkpoints = this.#namespaces.get(ns)?.checkpoints;
    if (checkpoints === undefined) return undefined;
    if (checkpointId !== undefined) return checkpoints.get(checkpointId);
    let latest: CheckpointEntry | undefined;
    for (const entry of checkpoints.values()) if (latest === undefined || entry.checkpointId > latest.checkpointId) latest = entry;
    return latest;
  }

  /** The checkpoints of `ns`, newest (greatest id) first. */
  checkpoints(ns: string): CheckpointEntry[] {
    return [...(this.#namespaces.get(ns)?.checkpoints.values() ?? [])].sort((a, b) => (a.checkpointId < b.checkpointId ? 1 : a.checkpointId > b.checkpointId ? -1 : 0));
  }

  /** The stored value of `channel` at `version`, if `put` stored one. */
  blob(ns: string, channel: string, version: string | number): StoredValue | undefined {
    return this.#blobs.get(blobKey(ns, channel, version));
  }

  /** Whether a blob is stored already (a second `put` of an unchanged value writes nothing). */
  hasBlob(ns: string, channel: string, version: string | number): boolean {
    return this.#blobs.has(blobKey(ns, channel, version));
  }

  /** The writes against one checkpoint, unordered. */
  writes(ns: string, checkpointId: string): KeptWrite[] {
    return [...(this.#namespaces.get(ns)?.writes.get(checkpointId)?.values() ?? [])];
  }

  /** Which of `writes` a `putWrites` keeps: as LangGraph's savers do, a regular write is kept once, a special one replaced. */
  keeps(ns: string, checkpointId: string, taskId: string, idx: number): boolean {
    return idx < 0 || !(this.#namespaces.get(ns)?.writes.get(checkpointId)?.has(`${taskId},${idx}`) ?? false);
  }

  #foldWrites(e: WritesEntry): void {
    const byCheckpoint = this.#ns(e.ns).writes;
    let writes = byCheckpoint.get(e.checkpointId);
    if (writes === undefined) byCheckpoint.set(e.checkpointId, (writes = new Map<string, KeptWrite>()));
    for (const w of e.writes) {
      const key = `${e.taskId},${w.idx}`;
      if (w.idx >= 0 && writes.has(key)) continue;
      writes.set(key, { taskId: e.taskId, channel: w.channel, value: w.value, taskPath: e.taskPath, idx: w.idx });
    }
  }

  #ns(ns: string): Namespace {
    let namespace = this.#namespaces.get(ns);
    if (namespace === undefined) this.#namespaces.set(ns, (namespace = { checkpoints: new Map(), writes: new Map() }));
    return namespace;
  }
}

function blobKey(ns: string, channel: string, version: string | number): string {
  return JSON.stringify([ns, channel, typeof version, String(version)]);
}

/** The index of write `i` of a task: LangGraph's fixed negative index for special channels, else its position. */
export function writeIndex(channel: string, i: number): number {
  return (WRITES_IDX_MAP as Record<string, number | undefined>)[channel] ?? i;
}

/** The checkpoint without its channel values, which go to blobs. */
export function withoutValues(checkpoint: Checkpoint): Omit<Checkpoint, 'channel_values'> {
  const { channel_values: _values, ...rest } = checkpoint;
  return rest;
}

export type { Checkpoint, CheckpointMetadata };
