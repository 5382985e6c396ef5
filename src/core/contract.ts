/**
 * The store's public contract, the same for every backend. The file backend (`src/file/`)
 * implements it; so must any other, proven by the conformance suite.
 */
import type { z } from 'zod';
import type { EntrySchema } from '../format/schema.js';
import type { SessionInfo, UsageTotals } from './info.js';
import type { HealthReport, SessionStats } from './stats.js';
import type { ArtifactStore } from './artifacts.js';
import type { EmbeddingStore } from './embeddings.js';
import type { ListFilter, ListOptions, ListPage } from './list-options.js';
import type {
  AppendInput,
  ChangeEvent,
  CreateInit,
  FollowOptions,
  ForkOptions,
  ReadOptions,
  ReadResult,
  SearchHit,
  SearchOptions,
  SessionPatch,
  StoredEntry,
  StreamOptions,
  WarningEvent,
} from './types.js';
import type { SessionStoreError } from './errors.js';

/** The listeners of a store's events ({@link StoreEvents}). */
export interface StoreEventMap {
  change: [event: ChangeEvent];
  warning: [event: WarningEvent];
  writeError: [error: SessionStoreError, id: string];
}

/**
 * A session store: sessions of entries, each session an ordered log. Open one with `openStore`.
 * @typeParam S - the entry schema; entries read are `StoredEntry<z.output<S>>`.
 */
export interface SessionStore<S extends z.ZodType = typeof EntrySchema> {
  /** Where the store lives, for messages: the folder, or the server without its password. */
  readonly location: string;
  /** Files and images the sessions produced, content-addressed by sha256, kept out of the transcripts. */
  readonly artifacts: ArtifactStore;
  /** Vectors for recall, each tied to a session, searched by cosine similarity; deleted with their session. */
  readonly embeddings: EmbeddingStore;

  /**
   * Creates a session; its header is stored when the promise resolves.
   * @throws ERR_INVALID_ID, ERR_SESSION_EXISTS (also when another process created the id), ERR_IO
   */
  create(init?: CreateInit): Promise<SessionInfo>;
  /** The session's info, or undefined when there is none. Entries still buffered are flushed first. */
  get(id: string): Promise<SessionInfo | undefined>;
  /**
   * Changes title / model / cwd / metadata with an appended record (never a rewrite, so it cannot
   * race an append). Resolves once the record is written.
   * @throws ERR_SESSION_NOT_FOUND, ERR_INVALID_OPTION, ERR_UNSUPPORTED_VERSION, ERR_IO
   */
  update(id: string, patch: SessionPatch): Promise<SessionInfo>;
  /** Removes a session and drops its buffered entries. Deleting an unknown id is not an error. */
  delete(id: string): Promise<void>;
  /**
   * One page of sessions, newest activity first by default; pass `nextCursor` back as `cursor`.
   * @throws ERR_INVALID_OPTION (bad limit, sort, order, filter or cursor), ERR_IO
   */
  list(options?: ListOptions): Promise<ListPage>;
  /** The most recently updated session matching `filter`: "continue where I left off". */
  latest(filter?: ListFilter): Promise<SessionInfo | undefined>;
  /** The ids of every session, in no particular order (for name completion and prefixes). */
  ids(): Promise<string[]>;
  /**
   * The id of the one session named by `name`: its full id, or a prefix of exactly one id.
   * @throws ERR_INVALID_ID, ERR_SESSION_NOT_FOUND, ERR_AMBIGUOUS_ID, ERR_IO
   */
  resolveId(name: string): Promise<string>;
  /**
   * A new session holding the entries of `id` up to and including `at` (default: all), whose
   * header names its parent.
   * @throws ERR_SESSION_NOT_FOUND, ERR_INVALID_OPTION (unknown `at`), ERR_SESSION_EXISTS, ERR_IO
   */
  fork(id: string, options?: ForkOptions): Promise<SessionInfo>;
  /**
   * Moves a session to the trash instead of deleting it. Returns where it went.
   * @throws ERR_SESSION_NOT_FOUND, ERR_IO
   */
  trash(id: string): Promise<string>;

  /**
   * Validates and buffers entries; assigns `id` and `ts` to those that lack them. Resolves once
   * buffered, not once written. A batch with one invalid entry is refused whole.
   * @throws ERR_INVALID_ENTRY, ERR_ENTRY_TOO_LARGE, ERR_SESSION_NOT_FOUND, ERR_UNSUPPORTED_VERSION,
   *   or the sticky error of a failed background write (retry with `flush()`).
   */
  append(id: string, entry: AppendInput<S>): Promise<StoredEntry<z.output<S>>>;
  append(id: string, entries: readonly AppendInput<S>[]): Promise<StoredEntry<z.output<S>>[]>;
  /** Resolves when every entry appended before the call survives a crash of this process. */
  flush(id?: string): Promise<void>;
  /** As `flush`, and durable: survives a power loss. */
  sync(id?: string): Promise<void>;
  /**
   * Entries in order and the problem lines that were skipped. Buffered entries are flushed first.
   * @throws ERR_SESSION_NOT_FOUND, ERR_UNSAFE_FILE, ERR_IO
   */
  read(id: string, options?: ReadOptions): Promise<ReadResult<StoredEntry<z.output<S>>>>;
  /** The session's entries as an async iterable, in bounded memory. */
  stream(id: string, options?: StreamOptions): AsyncGenerator<StoredEntry<z.output<S>>>;
  /** The last `tail` entries, then every entry appended later by any process, until `signal` aborts. */
  follow(id: string, options?: FollowOptions): AsyncGenerator<StoredEntry<z.output<S>>>;
  /**
   * Searches the text of every session (or `options.sessions`), yielding each matching entry.
   * @throws ERR_INVALID_OPTION (an invalid regex, limit or limitPerSession), ERR_INVALID_ID, ERR_IO
   */
  search(query: string, options?: SearchOptions): AsyncGenerator<SearchHit>;

  /**
   * The session's figures: entries by role and type, tool calls and `tool_execution`s per tool
   * (errors, durations), tokens per model, wall time. Read from its entries.
   * @throws ERR_SESSION_NOT_FOUND, ERR_IO
   */
  stats(id: string): Promise<SessionStats>;
  /**
   * Records tokens learnt after the fact (a streamed response's final usage) as a `usage` entry
   * naming `entryId`: counted in the session's totals and per model in `stats`; never a rewrite.
   * @throws ERR_SESSION_NOT_FOUND, ERR_INVALID_ENTRY
   */
  updateUsage(id: string, entryId: string | undefined, usage: Partial<UsageTotals> & { model?: string }): Promise<void>;
  /** Whether the store can be written now (the folder writable; the server answering), and if not, why. Never throws. */
  health(): Promise<HealthReport>;

  /** Adds a listener of `change`, `warning` or `writeError`. */
  on<E extends keyof StoreEventMap>(event: E, listener: (...args: StoreEventMap[E]) => void): this;
  /** Removes a listener. */
  off<E extends keyof StoreEventMap>(event: E, listener: (...args: StoreEventMap[E]) => void): this;
  /** Flushes everything and releases timers, watchers and exit hooks. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
