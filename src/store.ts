/**
 * The public facade: wires ids, the codec, writers and readers together. Holds no format or
 * file logic of its own.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import PQueue from 'p-queue';
import type { z } from 'zod';
import { errnoOf, ioError, SessionStoreError } from './errors.js';
import { onProcessExit } from './exit-hooks.js';
import { encodeJson, encodeLine } from './format/codec.js';
import type { EntryValidator } from './format/records.js';
import type { EntrySchema, Header } from './format/schema.js';
import { makeValidator } from './format/validate.js';
import { createExclusive, ensureDir } from './fs/files.js';
import { withRewriteLock } from './fs/lock.js';
import { sessionPath } from './fs/paths.js';
import { assertValidId, uuidv7 } from './ids.js';
import { resolveOptions, type ResolvedOptions, type StoreOptions } from './options.js';
import { forkSession } from './session/fork.js';
import { type PrepareContext, prepareEntries } from './session/prepare.js';
import { readLines, readSession, type ReadOptions, type ReadResult } from './session/reader.js';
import { writableHeaderLine } from './session/header-line.js';
import { buildHeader, buildUpdate } from './session/records.js';
import { type SessionInfo, SessionSummary } from './session/summary.js';
import { SessionWriter } from './session/writer.js';
import { SessionIndex, schemaTag } from './index/session-index.js';
import type { ListFilter, ListOptions, ListPage } from './list-options.js';
import { checkStore, type CheckOptions, type CheckReport } from './doctor.js';
import { collectTargets, makeMatcher, type SearchHit, type SearchOptions, searchTargets } from './search.js';
import { type FollowOptions, followSession } from './session/follow.js';
import { repairSession, type RepairReport } from './session/repair.js';
import { mergeSession, type MergeReport } from './session/merge.js';
import { conflictCopies } from './session/merge-files.js';
import { matchPrefix, sessionIds } from './session/resolve.js';
import { moveToTrash } from './session/trash.js';
import type { ReaderContext } from './session/reader.js';
import {
  type AppendInput,
  type ChangeEvent,
  type CreateInit,
  type ForkOptions,
  type MergeOptions,
  type SessionPatch,
  StoreEvents,
  type StoredEntry,
  type StreamOptions,
  type WarningEvent,
} from './store-types.js';

/** Cap on fds held across an fsync at once (durable flushes of many sessions). */
const FSYNC_CONCURRENCY = 16;

const warnedCodes = new Set<string>();
/** Starts a store's index (set in the class's static block, which may touch the private field). */
let startIndex: (store: SessionStore<z.ZodType>) => Promise<void>;

/**
 * A session store on one folder. Create it with {@link openStore}.
 * @typeParam S - the entry schema; entries read are `StoredEntry<z.output<S>>`.
 */
export class SessionStore<S extends z.ZodType = typeof EntrySchema> extends EventEmitter {
  /** The store folder, resolved to an absolute path. */
  readonly dir: string;
  readonly #options: ResolvedOptions;
  readonly #validate: EntryValidator<StoredEntry<z.output<S>>>;
  readonly #prepareContext: PrepareContext<StoredEntry<z.output<S>>>;
  readonly #writers = new Map<string, SessionWriter>();
  readonly #opening = new Map<string, Promise<SessionWriter>>();
  readonly #fsyncQueue = new PQueue({ concurrency: FSYNC_CONCURRENCY });
  #unregisterExit: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  /** What listing needs of every session (src/index): a cache of the files, kept live with `watch`. */
  readonly #index: SessionIndex;
  /** Which entry schema the index's counts are made with (`check()` compares the index file against it). */
  readonly #schemaTag: string;

  static {
    startIndex = (store) => store.#index.start();
  }

  /** @internal Use {@link openStore}. */
  constructor(options: ResolvedOptions, schema: S | undefined) {
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
    this.#index = new SessionIndex({
      dir: options.dir,
      reader: this.#readerContext(),
      schema: this.#schemaTag,
      watch: options.watch ? { reconcileIntervalMs: options.reconcileIntervalMs } : undefined,
      hooks: {
        change: (id, kind) => this.emit(StoreEvents.CHANGE, { id, kind, source: 'external' } satisfies ChangeEvent),
        warn: (code, message, id) => this.#warn(id === undefined ? { code, message } : { code, message, id }),
      },
    });
    if (options.flushOnExit) this.#unregisterExit = onProcessExit(() => this.#flushAllSync());
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
    if (!this.#writers.has(id)) this.#writers.set(id, this.#makeWriter(id, line));
    this.#emitChange(id, 'created');
    const summary = new SessionSummary(id);
    summary.feed({ bytes: Buffer.from(line.slice(0, -1)), offset: 0, length: line.length - 1, oversize: false, line: 1, torn: false }, this.#readerContext());
    return summary.info(Buffer.byteLength(line), header.createdAt);
  }

  /**
   * One page of sessions, newest activity first by default; pass `nextCursor` back as `cursor` for
   * the next page. Answered from the index (see docs/listing.md); buffered entries are flushed first.
   * @throws ERR_INVALID_OPTION (bad limit, sort, order, filter or cursor), ERR_IO
   */
  async list(options: ListOptions = {}): Promise<ListPage> {
    this.#assertOpen();
    await this.#settleAll();
    return this.#index.list(options);
  }

  /**
   * The most recently updated session matching `filter` (e.g. `{ cwd: process.cwd() }`): the
   * "continue where I left off" of a CLI assistant. Resume it with `read(id, { fromCompaction: true })`.
   */
  async latest(filter?: ListFilter): Promise<SessionInfo | undefined> {
    this.#assertOpen();
    await this.#settleAll();
    return this.#index.latest(filter);
  }

  /**
   * Rebuilds the index from the session files, reading every one from byte 0 (the index is a
   * cache; this is never needed for correctness). Resolves with the number of sessions.
   */
  async reindex(): Promise<number> {
    this.#assertOpen();
    await this.#settleAll();
    return this.#index.reindex();
  }

  /** The session's info, or undefined when there is none. Entries still buffered are flushed first. */
  async get(id: string): Promise<SessionInfo | undefined> {
    this.#assertOpen();
    assertValidId(id);
    await this.#settle(id);
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
    const writer = await this.#writer(id);
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
    const writer = this.#writers.get(id);
    writer?.discard();
    this.#writers.delete(id);
    const file = sessionPath(this.dir, id);
    try {
      await fs.promises.unlink(file);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw ioError('delete', file, err);
    }
    this.#emitChange(id, 'deleted');
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
    await this.#settle(id);
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
    let writer = this.#writers.get(id);
    if (writer === undefined) {
      assertValidId(id);
      writer = await this.#writer(id);
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
    await this.#settle(id);
    return readSession(sessionPath(this.dir, id), this.#readerContext(), options);
  }

  /** The session's entries as an async iterable, in bounded memory. */
  async *stream(id: string, options: StreamOptions = {}): AsyncGenerator<StoredEntry<z.output<S>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#settle(id);
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
    await this.#settle(id);
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
    for (const name of ['limit', 'limitPerSession'] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new SessionStoreError('ERR_INVALID_OPTION', `Expected \`${name}\` to be an integer >= 1, got ${String(value)}.`);
      }
    }
    let regexError: unknown;
    try {
      makeMatcher(query, options);
    } catch (err) {
      regexError = err;
    }
    if (regexError !== undefined) {
      throw new SessionStoreError('ERR_INVALID_OPTION', `Invalid regular expression: ${(regexError as Error).message}.`, { cause: regexError });
    }
    await this.#settleAll();
    const targets = await collectTargets(this.dir, options.sessions);
    yield* searchTargets(targets, query, options, {
      validate: this.#validate as EntryValidator<unknown>,
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
    await this.#settleAll();
    return checkStore(this.dir, { reader: this.#readerContext() as ReaderContext<unknown>, now: this.#options.now(), indexSchema: this.#schemaTag }, options);
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
    this.#assertOpen();
    assertValidId(id);
    await this.flush(id);
    const file = sessionPath(this.dir, id);
    // Two repairs of one session (two terminals) take turns; appends never wait for this lock.
    const report = await withRewriteLock(file, (assertHeld) =>
      repairSession({
        id,
        file,
        reader: this.#readerContext() as ReaderContext<unknown>,
        header: (createdAt) => ({ ...this.#header(id, {}), ...(createdAt === undefined ? {} : { createdAt }) }),
        now: this.#options.now(),
        assertHeld,
      }),
    );
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
    this.#assertOpen();
    assertValidId(id);
    await this.flush(id);
    const file = sessionPath(this.dir, id);
    const report = await withRewriteLock(file, async (assertHeld) =>
      mergeSession({
        id,
        dir: this.dir,
        file,
        copies: await conflictCopies(this.dir, id, options.copies),
        reader: this.#readerContext() as ReaderContext<unknown>,
        header: (createdAt) => ({ ...this.#header(id, {}), ...(createdAt === undefined ? {} : { createdAt }) }),
        now: this.#options.now(),
        assertHeld,
      }),
    );
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
    await this.#settle(id);
    const writer = this.#writers.get(id);
    writer?.discard();
    this.#writers.delete(id);
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
    const results = await Promise.allSettled([...this.#writers.values()].map((writer) => writer.close()));
    await this.#fsyncQueue.onIdle();
    await this.#index.close();
    const failed = results.find((result) => result.status === 'rejected');
    // Entries that could not be written stay registered for the exit flush, a last chance.
    if (failed === undefined) this.#unregisterExit?.();
    if (failed !== undefined) throw failed.reason;
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
    const info = await this.#index.get(id);
    if (info !== undefined) return info;
    const file = sessionPath(this.dir, id);
    throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session file at ${file}: it was deleted or moved.`, { path: file });
  }

  /** Flushes every session's buffer before a listing (failures stay sticky for append/flush). */
  async #settleAll(): Promise<void> {
    await Promise.all([...this.#writers.values()].map((writer) => writer.flush(false).catch(() => undefined)));
  }

  /** Flushes a session's buffer before reading it; a failing write stays sticky for append/flush to report. */
  async #settle(id: string): Promise<void> {
    await this.#writers.get(id)?.flush(false).catch(() => undefined);
  }

  async #flushWriters(id: string | undefined, requested: boolean): Promise<void> {
    this.#assertOpen();
    // Under durability 'fsync' every flush is an fsync, whichever call asked for it.
    const durable = requested || this.#options.durable;
    if (id !== undefined) {
      assertValidId(id);
      await this.#writers.get(id)?.flush(durable);
      return;
    }
    const results = await Promise.allSettled([...this.#writers.values()].map((writer) => writer.flush(durable)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  #flushAllSync(): void {
    for (const writer of this.#writers.values()) writer.flushSync();
  }

  async #writer(id: string): Promise<SessionWriter> {
    const existing = this.#writers.get(id);
    if (existing !== undefined) return existing;
    let opening = this.#opening.get(id);
    if (opening === undefined) {
      opening = this.#openWriter(id).finally(() => this.#opening.delete(id));
      this.#opening.set(id, opening);
    }
    return opening;
  }

  /** Reads the header once, refusing files of a newer format, and sets up the session's writer. */
  async #openWriter(id: string): Promise<SessionWriter> {
    const headerLine = await writableHeaderLine(sessionPath(this.dir, id), () => this.#header(id, {}));
    const writer = this.#makeWriter(id, headerLine);
    this.#writers.set(id, writer);
    return writer;
  }

  #makeWriter(id: string, headerLine: string): SessionWriter {
    const file = sessionPath(this.dir, id);
    return new SessionWriter(
      file,
      headerLine,
      {
        maxEntries: this.#options.maxEntries,
        maxBytes: this.#options.maxBytes,
        intervalMs: this.#options.intervalMs,
        maxBufferedBytes: this.#options.maxBufferedBytes,
        durable: this.#options.durable,
        schedule: (task) => this.#fsyncQueue.add(task),
      },
      {
        onWritten: () => this.#emitChange(id, 'changed'),
        onError: (error) => this.#writeError(error, id),
        onWarning: (message, code) => this.#warn({ code, message, id }),
      },
    );
  }

  #emitChange(id: string, kind: ChangeEvent['kind']): void {
    this.#index.noteLocal(id);
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

/**
 * Opens (and creates, mode 0700) a store folder.
 *
 * @example
 * ```ts
 * import { openStore } from 'sessionlog';
 * await using store = await openStore({ dir: './sessions' });
 * const { id } = await store.create({ title: 'Fix the build', cwd: process.cwd() });
 * await store.append(id, { role: 'user', content: 'The build fails on Node 20.' });
 * await store.flush(id);
 * const { entries, problems } = await store.read(id, { tail: 50 });
 * ```
 * @throws ERR_INVALID_OPTION, ERR_IO
 */
export async function openStore<S extends z.ZodType = typeof EntrySchema>(options: StoreOptions<S>): Promise<SessionStore<S>> {
  const resolved = resolveOptions(options);
  await ensureDir(resolved.dir);
  const store = new SessionStore<S>(resolved, options.schema);
  // Without `watch` the index is loaded on first use, so commands that never list pay nothing.
  if (resolved.watch) {
    try {
      await startIndex(store);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }
  return store;
}

