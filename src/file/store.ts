/**
 * The file backend's store: a thin facade that checks ids, then hands each call to the module that
 * does it (writers, readers, the catalog, search, doctor, rewrites). Holds no format or file logic.
 */
import { EventEmitter } from 'node:events';
import type { z } from 'zod';
import type { SessionStore, StoreEventMap } from '../core/contract.js';
import { SessionStoreError } from '../core/errors.js';
import { assertValidId, uuidv7 } from '../core/ids.js';
import type { SessionInfo } from '../core/info.js';
import type { ListFilter, ListOptions, ListPage } from '../core/list-options.js';
import type { ResolvedOptions } from '../core/options.js';
import {
  type AppendInput,
  type ChangeEvent,
  type CreateInit,
  type FollowOptions,
  type ForkOptions,
  type MergeOptions,
  type ReadOptions,
  type ReadResult,
  type SearchHit,
  type SearchOptions,
  type SessionPatch,
  StoreEvents,
  type StoredEntry,
  type StreamOptions,
  type WarningEvent,
} from '../core/types.js';
import { checkStore, type CheckOptions, type CheckReport } from '../doctor/doctor.js';
import { encodeJson, encodeLine } from '../format/codec.js';
import { buildHeader, buildUpdate } from '../format/header.js';
import { type PrepareContext, prepareEntries } from '../format/prepare.js';
import type { EntryValidator } from '../format/records.js';
import type { EntrySchema, Header } from '../format/schema.js';
import { makeValidator } from '../format/validate.js';
import { checkSearch, collectTargets, searchTargets } from '../search/search.js';
import { Catalog, schemaTag } from './catalog/catalog.js';
import { createExclusive, ensureDir } from './fs/files.js';
import { withRewriteLock } from './fs/lock.js';
import { sessionPath } from './fs/paths.js';
import { conflictCopies } from './rewrite/merge-files.js';
import { mergeSession, type MergeReport } from './rewrite/merge.js';
import { repairSession, type RepairReport } from './rewrite/repair.js';
import { followSession } from './session/follow.js';
import { forkSession } from './session/fork.js';
import { writableHeaderLine } from './session/header-line.js';
import { type ReaderContext, readLines, readSession } from './session/reader.js';
import { matchPrefix, sessionIds } from './session/resolve.js';
import { SessionSummary } from './session/summary.js';
import { moveToTrash, removeSessionFile } from './session/trash.js';
import { WriterRegistry } from './writers.js';

const warnedCodes = new Set<string>();

/**
 * A session store on one folder: the file backend. Open it with `openStore({ dir })`.
 * Beyond the {@link SessionStore} contract it can `repair`, `mergeConflicts`, `check` and
 * `reindex`, which only a folder of files needs.
 * @typeParam S - the entry schema; entries read are `StoredEntry<z.output<S>>`.
 */
export class FileSessionStore<S extends z.ZodType = typeof EntrySchema> extends EventEmitter<StoreEventMap> implements SessionStore<S> {
  /** The store folder, resolved to an absolute path. */
  readonly dir: string;
  readonly #options: ResolvedOptions;
  readonly #validate: EntryValidator<StoredEntry<z.output<S>>>;
  readonly #prepareContext: PrepareContext<StoredEntry<z.output<S>>>;
  readonly #writers: WriterRegistry;
  #closing: Promise<void> | undefined;
  /** What listing needs of every session: a cache of the files, kept live with `watch`. */
  readonly #catalog: Catalog;
  /** Which entry schema the catalog's counts are made with (`check()` compares the catalog file against it). */
  readonly #schemaTag: string;

  /**
   * Opens (and creates, mode 0700) a store folder. Without `watch` the catalog is loaded on first
   * use, so commands that never list pay nothing.
   * @throws ERR_INVALID_OPTION, ERR_IO
   */
  static async open<S extends z.ZodType>(options: ResolvedOptions, schema: S | undefined): Promise<FileSessionStore<S>> {
    await ensureDir(options.dir);
    const store = new FileSessionStore<S>(options, schema);
    if (options.watch) {
      try {
        await store.#catalog.start();
      } catch (err) {
        await store.close().catch(() => undefined);
        throw err;
      }
    }
    return store;
  }

  private constructor(options: ResolvedOptions, schema: S | undefined) {
    super();
    this.dir = options.dir;
    this.#options = options;
    this.#validate = makeValidator(schema);
    this.#prepareContext = {
      validate: this.#validate,
      maxEntryBytes: options.maxEntryBytes,
      newId: () => uuidv7(options.now()),
      now: options.now,
    };
    this.#schemaTag = schemaTag(schema);
    this.#catalog = new Catalog({
      dir: options.dir,
      reader: this.#readerContext(),
      schema: this.#schemaTag,
      watch: options.watch ? { reconcileIntervalMs: options.reconcileIntervalMs } : undefined,
      hooks: {
        change: (id, kind) => this.emit(StoreEvents.CHANGE, { id, kind, source: 'external' } satisfies ChangeEvent),
        warn: (code, message, id) => this.#warn(id === undefined ? { code, message } : { code, message, id }),
      },
    });
    this.#writers = new WriterRegistry({
      ...options,
      headerLine: (id) => writableHeaderLine(sessionPath(this.dir, id), () => this.#header(id, {})),
      onWritten: (id) => this.#emitChange(id, 'changed'),
      onError: (error, id) => this.#writeError(error, id),
      onWarning: (code, message, id) => this.#warn({ code, message, id }),
    });
  }

  /** The store folder (the contract's name for where a store lives). */
  get location(): string {
    return this.dir;
  }

  /**
   * Creates a session; its header is in the file when the promise resolves (and fsynced, with the
   * folder, under `durability: 'fsync'`).
   * @throws ERR_INVALID_ID, ERR_SESSION_EXISTS (also when another process created the id), ERR_IO
   */
  async create(init: CreateInit = {}): Promise<SessionInfo> {
    this.#assertOpen();
    const id = init.id ?? uuidv7(this.#options.now());
    assertValidId(id);
    const header = this.#header(id, init);
    const file = sessionPath(this.dir, id);
    const line = encodeLine(header);
    await createExclusive(file, Buffer.from(line), this.#options.durable);
    // The writer knows the header from the start: no read on the first append.
    this.#writers.adopt(id, line);
    this.#emitChange(id, 'created');
    return SessionSummary.ofNewSession(id, line, this.#readerContext());
  }

  /**
   * One page of sessions, newest activity first by default; pass `nextCursor` back as `cursor` for
   * the next page. Answered from the index (see docs/listing.md); buffered entries are flushed first.
   * @throws ERR_INVALID_OPTION (bad limit, sort, order, filter or cursor), ERR_IO
   */
  async list(options: ListOptions = {}): Promise<ListPage> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return this.#catalog.list(options);
  }

  /**
   * The most recently updated session matching `filter` (e.g. `{ cwd: process.cwd() }`): the
   * "continue where I left off" of a CLI assistant. Resume it with `read(id, { fromCompaction: true })`.
   */
  async latest(filter?: ListFilter): Promise<SessionInfo | undefined> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return this.#catalog.latest(filter);
  }

  /**
   * Rebuilds the index from the session files, reading every one from byte 0 (the index is a
   * cache; this is never needed for correctness). Resolves with the number of sessions.
   */
  async reindex(): Promise<number> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return this.#catalog.reindex();
  }

  /** The session's info, or undefined when there is none. Entries still buffered are flushed first. */
  async get(id: string): Promise<SessionInfo | undefined> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    try {
      return await this.#summarize(id);
    } catch (err) {
      if (err instanceof SessionStoreError && err.code === 'ERR_SESSION_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /**
   * Changes title / model / cwd / metadata by appending a bookkeeping record (history is never
   * rewritten, so an update cannot race an append). Resolves once the record is written.
   * @throws ERR_SESSION_NOT_FOUND, ERR_INVALID_OPTION, ERR_UNSUPPORTED_VERSION, ERR_IO
   */
  async update(id: string, patch: SessionPatch): Promise<SessionInfo> {
    this.#assertOpen();
    assertValidId(id);
    const record = buildUpdate(patch, uuidv7(this.#options.now()), new Date(this.#options.now()).toISOString());
    const writer = await this.#writers.get(id);
    if (writer.error !== undefined) throw writer.error;
    writer.enqueue([encodeJson(record)], [record['id'] as string]);
    await writer.flush(this.#options.durable);
    const info = await this.#summarize(id);
    return info;
  }

  /** Removes a session's file and drops its buffered entries. Deleting an unknown id is not an error. */
  async delete(id: string): Promise<void> {
    this.#assertOpen();
    assertValidId(id);
    this.#writers.discard(id);
    if (await removeSessionFile(sessionPath(this.dir, id))) this.#emitChange(id, 'deleted');
  }

  /**
   * A new session holding the entries of `id` up to and including `at` (default: all); its header
   * names the parent. Written to a temp file and linked into place, so a crash never leaves half a fork.
   * @throws ERR_SESSION_NOT_FOUND, ERR_INVALID_OPTION (unknown `at`), ERR_SESSION_EXISTS, ERR_IO
   */
  async fork(id: string, options: ForkOptions = {}): Promise<SessionInfo> {
    this.#assertOpen();
    assertValidId(id);
    const newId = options.id ?? uuidv7(this.#options.now());
    assertValidId(newId);
    await this.#writers.settle(id);
    const parent = await this.#summarize(id);
    const base: CreateInit = { title: options.title ?? parent.title, model: parent.model, cwd: parent.cwd, metadata: { ...parent.metadata } };
    await forkSession({
      source: sessionPath(this.dir, id),
      target: sessionPath(this.dir, newId),
      at: options.at,
      header: (entryId: string | undefined) => ({ ...this.#header(newId, base), parent: entryId === undefined ? { id } : { id, entryId } }),
      reader: this.#readerContext(),
      durable: this.#options.durable,
    });
    this.#emitChange(newId, 'created');
    return this.#summarize(newId);
  }

  /**
   * Validates and buffers entries; assigns `id` and `ts` to those that lack them. Resolves once
   * buffered, not once written: use `flush()` / `sync()` for that. A batch with one invalid entry
   * is refused whole.
   * @throws ERR_INVALID_ENTRY, ERR_ENTRY_TOO_LARGE, ERR_SESSION_NOT_FOUND, ERR_UNSUPPORTED_VERSION,
   *   or the sticky error of a failed background write (retry with `flush()`).
   */
  async append(id: string, entry: AppendInput<S>): Promise<StoredEntry<z.output<S>>>;
  async append(id: string, entries: readonly AppendInput<S>[]): Promise<StoredEntry<z.output<S>>[]>;
  async append(
    id: string,
    input: AppendInput<S> | readonly AppendInput<S>[],
  ): Promise<StoredEntry<z.output<S>> | StoredEntry<z.output<S>>[]> {
    this.#assertOpen();
    // A session with a writer has a valid id (writers are only made for validated ids): the
    // common append skips the check, and allocates no context either.
    let writer = this.#writers.peek(id);
    if (writer === undefined) {
      assertValidId(id);
      writer = await this.#writers.get(id);
    }
    if (writer.error !== undefined) throw writer.error;
    const many = Array.isArray(input);
    const prepared = prepareEntries(many ? (input as readonly unknown[]) : [input], this.#prepareContext, writer.file);
    // Buffered before any await, so entries land in call order even when appends are not awaited;
    // the producer is then slowed while the buffer is over its cap.
    writer.enqueue(prepared.lines, prepared.ids);
    await writer.waitForRoom();
    return many ? prepared.entries : (prepared.entries[0] as StoredEntry<z.output<S>>);
  }

  /** Resolves when every entry appended before the call is handed to the OS (survives a process crash). */
  async flush(id?: string): Promise<void> {
    await this.#flushWriters(id, false);
  }

  /** As `flush`, and fsynced (survives power loss). */
  async sync(id?: string): Promise<void> {
    await this.#flushWriters(id, true);
  }

  /**
   * Entries in order and the problem lines that were skipped. Buffered entries are flushed first.
   * `tail` and `fromCompaction` read from the end of the file; `limit` / `after` page.
   * @throws ERR_SESSION_NOT_FOUND, ERR_UNSAFE_FILE, ERR_IO
   */
  async read(id: string, options: ReadOptions = {}): Promise<ReadResult<StoredEntry<z.output<S>>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    return readSession(sessionPath(this.dir, id), this.#readerContext(), options);
  }

  /** The session's entries as an async iterable, in bounded memory. */
  async *stream(id: string, options: StreamOptions = {}): AsyncGenerator<StoredEntry<z.output<S>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    for await (const item of readLines(sessionPath(this.dir, id), this.#readerContext())) {
      if (item.kind === 'entry') yield item.entry;
      else if (item.kind === 'problem') options.onProblem?.(item.problem);
    }
  }

  /**
   * The id of the one session named by `name`: its full id, or a prefix of exactly one id (as git
   * names commits). An exact id wins over longer ids it is a prefix of.
   * @throws ERR_INVALID_ID, ERR_SESSION_NOT_FOUND, ERR_AMBIGUOUS_ID (the message names the candidates), ERR_IO
   */
  async resolveId(name: string): Promise<string> {
    this.#assertOpen();
    return matchPrefix(await sessionIds(this.dir), name, this.dir);
  }

  /** The ids of the session files in the folder, in no particular order (conflict copies and temps left out). */
  async ids(): Promise<string[]> {
    this.#assertOpen();
    return sessionIds(this.dir);
  }

  /**
   * The last `tail` entries (default none), then every entry appended afterwards, by this process
   * or another, as it arrives, until `signal` aborts or the store closes. Woken by `change`
   * events (from other processes too with `watch: true`), with a poll as a safety net.
   * @throws ERR_SESSION_NOT_FOUND (also when the session is deleted while followed), ERR_IO
   * @example
   * ```ts
   * const ac = new AbortController();
   * for await (const entry of store.follow(id, { tail: 10, signal: ac.signal })) console.log(entry);
   * ```
   */
  async *follow(id: string, options: FollowOptions = {}): AsyncGenerator<StoredEntry<z.output<S>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    yield* followSession(sessionPath(this.dir, id), {
      reader: this.#readerContext(),
      subscribe: (notify) => {
        const listener = (event: ChangeEvent): void => {
          if (event.id === id) notify();
        };
        this.on(StoreEvents.CHANGE, listener);
        return () => this.off(StoreEvents.CHANGE, listener);
      },
      isOpen: () => this.#closing === undefined,
      pollIntervalMs: options.pollIntervalMs ?? (this.#options.watch ? 1000 : 200),
    }, options);
  }

  /**
   * Searches the text of every session (or `options.sessions`) and yields each matching line as it
   * is found: plain text by default, `regex: true` for a regular expression. Only entry text is
   * searched (content, tool calls and results, summaries, other string fields), not keys, ids or
   * roles. Sessions are searched most recently modified first.
   * @throws ERR_INVALID_OPTION (an invalid regex, limit or limitPerSession), ERR_INVALID_ID, ERR_IO
   */
  async *search(query: string, options: SearchOptions = {}): AsyncGenerator<SearchHit> {
    this.#assertOpen();
    checkSearch(query, options);
    await this.#writers.settleAll();
    const targets = await collectTargets(this.dir, options.sessions);
    yield* searchTargets(targets, query, options, {
      validate: this.#validate,
      maxLineBytes: this.#options.maxEntryBytes,
      titleOf: async (id, headerTitle) => (await this.get(id).catch(() => undefined))?.title ?? headerTitle,
    });
  }

  /**
   * Checks the whole store folder: torn tails, unreadable lines, duplicate entry ids, headers that
   * name another session, files claiming the same session, conflict copies, orphan temp and lock
   * files, loose permissions. Reads only.
   * @throws ERR_IO
   */
  async check(options: CheckOptions = {}): Promise<CheckReport> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return checkStore(this.dir, { reader: this.#readerContext(), now: this.#options.now(), indexSchema: this.#schemaTag }, options);
  }

  /**
   * Rewrites a session without the lines the reader skips (torn tail, invalid lines, duplicate
   * ids, a bad header), atomically: temp file (0600), fsync, rename, fsync of the folder. Every
   * removed byte is kept in `<id>.jsonl.recovered-<time>` beside it (0600). Entries buffered by
   * this store are flushed first; entries another process appends meanwhile are kept. A session
   * with nothing to repair is not touched.
   * @throws ERR_SESSION_NOT_FOUND, ERR_UNSUPPORTED_VERSION, ERR_LOCKED (another process is repairing
   *   it, or the file was replaced while it was repaired: run it again), ERR_IO, or the error of a
   *   failed flush
   */
  async repair(id: string): Promise<RepairReport> {
    const report = await this.#rewrite(id, (job) => repairSession(job));
    if (report.repaired) this.#emitChange(id, 'changed');
    return report;
  }

  /**
   * Merges the session's sync-conflict copies (`<id>.sync-conflict-….jsonl`, listed in its
   * `conflicts`, plus any `options.copies`) into it: the union of the records of every file by
   * record id, each once, in an order that keeps every copy's own order and does not depend on which
   * copy the sync tool kept as `<id>.jsonl`. Lines that are not valid records (bad lines, torn
   * fragments, a second version of an id) are kept in `<id>.jsonl.recovered-<time>` and reported,
   * never dropped. Rewritten as `repair` does (temp file, fsync, rename, fsync of the folder, under
   * the same lock); then the copies are moved to `<dir>/.trash/`, never deleted. Entries buffered by
   * this store are flushed first; entries appended meanwhile, by this process or another, are kept.
   * A session without copies is not touched (`merged: false`).
   * @example
   * ```ts
   * const info = await store.get(id);
   * if (info?.conflicts.length) console.log(await store.mergeConflicts(id));
   * ```
   * @throws ERR_SESSION_NOT_FOUND (also for a named copy that is not there), ERR_INVALID_OPTION (a
   *   copy whose header names another session, a name that is not a file of the folder),
   *   ERR_UNSUPPORTED_VERSION, ERR_LOCKED (another process is rewriting it, or a file changed while
   *   it was merged: run it again), ERR_IO, or the error of a failed flush
   */
  async mergeConflicts(id: string, options: MergeOptions = {}): Promise<MergeReport> {
    const report = await this.#rewrite(id, async (job) => mergeSession({ ...job, dir: this.dir, copies: await conflictCopies(this.dir, id, options.copies) }));
    if (report.merged) this.#emitChange(id, 'changed');
    return report;
  }

  /**
   * Moves a session to the trash folder `<dir>/.trash/` (as `<id>.jsonl`, or with a time stamp when
   * that name is taken) instead of deleting it; `mv` brings it back. Returns the new path.
   * @throws ERR_SESSION_NOT_FOUND, ERR_IO
   */
  async trash(id: string): Promise<string> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    this.#writers.discard(id);
    const target = await moveToTrash(this.dir, id, sessionPath(this.dir, id), this.#options.now());
    this.#emitChange(id, 'deleted');
    return target;
  }

  /** Flushes everything and releases timers and exit hooks. Idempotent: returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Alias of `close()` for `await using store = await openStore(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    try {
      await this.#writers.close();
    } finally {
      await this.#catalog.close();
    }
  }

  /**
   * Runs one rewrite of a session (repair or merge): its buffered entries flushed first, then the
   * job under the session's rewrite lock, so two rewrites (two terminals) take turns. Appends
   * never wait for this lock.
   */
  async #rewrite<T>(id: string, job: (base: RewriteBase) => Promise<T>): Promise<T> {
    this.#assertOpen();
    assertValidId(id);
    await this.flush(id);
    const file = sessionPath(this.dir, id);
    return withRewriteLock(file, (assertHeld) =>
      job({
        id,
        file,
        reader: this.#readerContext(),
        header: (createdAt) => ({ ...this.#header(id, {}), ...(createdAt === undefined ? {} : { createdAt }) }),
        now: this.#options.now(),
        assertHeld,
      }),
    );
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new SessionStoreError('ERR_CLOSED', `The store on ${this.dir} is closed; open it again with openStore().`);
    }
  }

  #readerContext(): { validate: EntryValidator<StoredEntry<z.output<S>>>; maxLineBytes: number } {
    return { validate: this.#validate, maxLineBytes: this.#options.maxEntryBytes };
  }

  #header(id: string, init: CreateInit): Header {
    return buildHeader(id, init, new Date(this.#options.now()).toISOString());
  }

  /** The session's info from the index, which re-validates it against the file first. */
  async #summarize(id: string): Promise<SessionInfo> {
    const info = await this.#catalog.get(id);
    if (info !== undefined) return info;
    const file = sessionPath(this.dir, id);
    throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session file at ${file}: it was deleted or moved.`, { path: file });
  }

  async #flushWriters(id: string | undefined, requested: boolean): Promise<void> {
    this.#assertOpen();
    if (id !== undefined) assertValidId(id);
    // Under durability 'fsync' every flush is an fsync, whichever call asked for it.
    await this.#writers.flush(id, requested || this.#options.durable);
  }

  #emitChange(id: string, kind: ChangeEvent['kind']): void {
    this.#catalog.noteLocal(id);
    const event: ChangeEvent = { id, kind, source: 'local' };
    this.emit(StoreEvents.CHANGE, event);
  }

  #warn(event: WarningEvent): void {
    if (this.listenerCount(StoreEvents.WARNING) > 0) {
      this.emit(StoreEvents.WARNING, event);
    } else if (!warnedCodes.has(event.code)) {
      warnedCodes.add(event.code);
      process.emitWarning(event.message, { code: event.code, type: 'SessionlogWarning' });
    }
  }

  #writeError(error: SessionStoreError, id: string): void {
    if (this.listenerCount(StoreEvents.WRITE_ERROR) > 0) this.emit(StoreEvents.WRITE_ERROR, error, id);
    else this.#warn({ code: error.code, message: error.message, id });
  }
}

/** What a repair and a merge are given: the session, its file, and how to read and head it. */
interface RewriteBase {
  readonly id: string;
  readonly file: string;
  readonly reader: ReaderContext<unknown>;
  readonly header: (createdAt: string | undefined) => Header;
  readonly now: number;
  readonly assertHeld: () => void;
}
