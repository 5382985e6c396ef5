/**
 * The PostgreSQL backend: the same {@link SessionStore} contract as a folder, for teams whose
 * agents run on many machines. Sessions are rows, entries are rows holding their JSON text exactly
 * as appended (so a session pulled into a folder has the same lines everywhere), appends are
 * buffered like the file backend's and committed one transaction per flush, listing and search
 * run on the server, and `change` events cross processes by LISTEN / NOTIFY.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { z } from 'zod';
import type { SessionStore } from '../core/contract.js';
import { emitWriteError, onSessionChange } from '../core/emit.js';
import { SessionStoreError, unlessNotFound } from '../core/errors.js';
import { assertValidId, uuidv7 } from '../core/ids.js';
import type { SessionInfo } from '../core/info.js';
import type { ListFilter, ListOptions, ListPage } from '../core/list-options.js';
import type { ResolvedCommon } from '../core/options.js';
import { type AppendInput, type ChangeEvent, type CreateInit, type FollowOptions, type ForkOptions, type ReadOptions, type ReadResult,
  type SearchHit, type SearchOptions, type SessionPatch, StoreEvents, type StoredEntry, type StreamOptions } from '../core/types.js';
import { encodeLine } from '../format/codec.js';
import { buildHeader, buildUpdate } from '../format/header.js';
import { type PrepareContext, prepareEntries } from '../format/prepare.js';
import { redactorFor } from '../secrets/redact.js';
import type { EntryValidator } from '../format/records.js';
import type { EntrySchema } from '../format/schema.js';
import { StoreBase, unguarded, whileOpen } from '../core/store-base.js';
import { PgArtifacts } from './artifacts.js';
import { PgEmbeddings, removeUnderLock } from './embeddings.js';
import type { HealthReport } from '../core/stats.js';
import { makeValidator } from '../format/validate.js';
import { checkSearch } from '../search/search.js';
import { callServer, createPool, redactUrl, serverError } from './connect.js';
import { InFlight } from './in-flight.js';
import { ChangeListener, channelOf } from './notify.js';
import { decodeRows, entriesAfter, listSessions, readEntries, sessionRow } from './queries.js';
import { infoOf } from './rows.js';
import { migrate, redactKey } from './schema.js';
import { searchServer } from './search.js';
import { copySession, insertSession, resolvePrefix } from './sessions.js';
import { PgWriter } from './writer.js';

/** Options of the PostgreSQL store after defaults. */
export interface ResolvedPostgresOptions extends ResolvedCommon {
  readonly url: string;
  readonly maxConnections: number;
}

/**
 * A session store on a PostgreSQL database (`openStore({ url })`). What only a folder has
 * (`repair`, `mergeConflicts`, `check`, `reindex`, `watch`) it does not need: rows cannot be torn.
 * @typeParam S - the entry schema; entries read are `StoredEntry<z.output<S>>`.
 */
export class PostgresSessionStore<S extends z.ZodType = typeof EntrySchema> extends StoreBase implements SessionStore<S> {
  /** The server and database, without the password. */
  readonly location: string;
  readonly #options: ResolvedPostgresOptions;
  /** Files and images of the sessions, content-addressed (docs/backends.md). */
  readonly artifacts: PgArtifacts;
  /** Vectors for recall, rows searched in this process (docs/backends.md). */
  readonly embeddings: PgEmbeddings;
  readonly #pool: pg.Pool;
  /** Calls to the server in flight: close() waits for them before it ends the pool. */
  readonly #inFlight = new InFlight();
  readonly #validate: EntryValidator<StoredEntry<z.output<S>>>;
  #prepare: PrepareContext<StoredEntry<z.output<S>>>;
  readonly #writers = new Map<string, PgWriter>();
  readonly #origin = randomUUID();
  #listener: ChangeListener | undefined;
  #channel = '';
  #closing: Promise<void> | undefined;
  readonly #beforeExit = (): void => void this.flush().catch(() => undefined);

  /** Connects, creates or migrates the tables, and starts listening for changes. @throws ERR_INVALID_OPTION, ERR_UNAVAILABLE, ERR_AUTH, ERR_UNSUPPORTED_VERSION */
  static async open<S extends z.ZodType>(options: ResolvedPostgresOptions, schema: S | undefined): Promise<PostgresSessionStore<S>> {
    const store = new PostgresSessionStore<S>(options, schema);
    try {
      const client = await store.#pool.connect();
      try {
        await migrate(client, store.location);
        const schema = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
        store.#channel = channelOf(schema.rows[0]?.schema ?? 'public');
        const key = options.redact === false ? undefined : await redactKey(client);
        if (key !== undefined) store.#prepare = { ...store.#prepare, redactor: redactorFor(options.redact, () => key) };
      } finally {
        client.release();
      }
      store.#listener = await ChangeListener.start(options.url, store.#channel, (event) => store.#external(event));
    } catch (err) {
      await store.#pool.end().catch(() => undefined);
      throw serverError(err, store.location, 'open the store');
    }
    return store;
  }

  private constructor(options: ResolvedPostgresOptions, schema: S | undefined) {
    super();
    this.#options = options;
    this.location = redactUrl(options.url);
    this.#pool = createPool(options.url, options.maxConnections);
    const track = <T>(task: () => Promise<T>): Promise<T> => this.#inFlight.run(task);
    this.artifacts = whileOpen(new PgArtifacts(this.#pool, this.location), () => this.#assertOpen(), track);
    this.embeddings = whileOpen(new PgEmbeddings({ pool: this.#pool, where: this.location, redact: (value) => this.#prepare.redactor?.value(value) ?? value }), () => this.#assertOpen(), track);
    this.#validate = makeValidator(schema);
    this.#prepare = { validate: this.#validate, maxEntryBytes: options.maxEntryBytes, newId: () => uuidv7(options.now()), now: options.now };
    // A natural end flushes what is buffered (an async write cannot run in `exit` or after a
    // signal: see docs/backends.md for what that means for unflushed entries).
    if (options.flushOnExit) process.on('beforeExit', this.#beforeExit);
  }

  /** {@inheritDoc SessionStore.create} */
  async create(init: CreateInit = {}): Promise<SessionInfo> {
    this.#assertOpen();
    const id = init.id ?? uuidv7(this.#options.now());
    assertValidId(id);
    const header = buildHeader(id, this.#prepare.redactor?.value(init) ?? init, new Date(this.#options.now()).toISOString());
    const row = await this.#call('create a session', () => insertSession(this.#pool, header, encodeLine(header), this.location));
    this.#emitChange(id, 'created');
    return infoOf(row);
  }

  /** {@inheritDoc SessionStore.get} */
  async get(id: string): Promise<SessionInfo | undefined> {
    this.#assertOpen();
    assertValidId(id);
    await this.#settle(id);
    const row = await unlessNotFound(this.#call('read a session', () => sessionRow(this.#pool, id, this.location)));
    return row === undefined ? undefined : infoOf(row);
  }

  /** {@inheritDoc SessionStore.update} */
  async update(id: string, patch: SessionPatch): Promise<SessionInfo> {
    this.#assertOpen();
    assertValidId(id);
    const record = buildUpdate(this.#prepare.redactor?.value(patch) ?? patch, uuidv7(this.#options.now()), new Date(this.#options.now()).toISOString());
    const writer = this.#writer(id);
    if (writer.error !== undefined) throw writer.error;
    writer.enqueue([{ line: JSON.stringify(record), value: record, id: record['id'] as string, isUpdate: true }]);
    await writer.flush(this.#options.durable);
    return infoOf(await this.#call('read a session', () => sessionRow(this.#pool, id, this.location)));
  }

  /** {@inheritDoc SessionStore.delete} */
  async delete(id: string): Promise<void> {
    this.#assertOpen();
    assertValidId(id);
    this.#writers.get(id)?.discard();
    this.#writers.delete(id);
    // Under the embeddings lock: the cascade to the session's vectors leaves tombstones (schema.ts).
    const deleted = await this.#call('delete a session', () => removeUnderLock(this.#pool, 'DELETE FROM sessionlog_sessions WHERE id = $1', [id]));
    if (deleted > 0) this.#emitChange(id, 'deleted');
    // Its artifact references went with it (ON DELETE CASCADE); the artifacts nobody uses now go too.
    await this.#call('remove unused artifacts', () => unguarded(this.artifacts).gc());
  }

  /** {@inheritDoc SessionStore.list} */
  async list(options: ListOptions = {}): Promise<ListPage> {
    this.#assertOpen();
    await this.#settleAll();
    return this.#call('list sessions', () => listSessions(this.#pool, options));
  }

  /** {@inheritDoc SessionStore.latest} */
  async latest(filter?: ListFilter): Promise<SessionInfo | undefined> {
    const { sessions } = await this.list(filter === undefined ? { limit: 1 } : { limit: 1, filter });
    return sessions[0];
  }

  /** {@inheritDoc SessionStore.ids} */
  async ids(): Promise<string[]> {
    this.#assertOpen();
    const result = await this.#call('list sessions', () => this.#pool.query<{ id: string }>('SELECT id FROM sessionlog_sessions WHERE trashed_at IS NULL'));
    return result.rows.map((row) => row.id);
  }

  /** {@inheritDoc SessionStore.resolveId} */
  async resolveId(name: string): Promise<string> {
    this.#assertOpen();
    return this.#call('find a session', () => resolvePrefix(this.#pool, name, this.location));
  }

  /** {@inheritDoc SessionStore.fork} */
  async fork(id: string, options: ForkOptions = {}): Promise<SessionInfo> {
    this.#assertOpen();
    assertValidId(id);
    const newId = options.id ?? uuidv7(this.#options.now());
    assertValidId(newId);
    await this.#settle(id);
    const now = new Date(this.#options.now()).toISOString();
    const row = await this.#call('fork a session', () =>
      copySession(this.#pool, { id, newId, at: options.at, title: options.title, now, where: this.location }),
    );
    this.#emitChange(newId, 'created');
    return infoOf(row);
  }

  /** {@inheritDoc SessionStore.trash} */
  async trash(id: string): Promise<string> {
    this.#assertOpen();
    assertValidId(id);
    await this.#settle(id);
    this.#writers.get(id)?.discard();
    this.#writers.delete(id);
    const result = await this.#call('trash a session', () =>
      this.#pool.query('UPDATE sessionlog_sessions SET trashed_at = now() WHERE id = $1 AND trashed_at IS NULL', [id]),
    );
    if ((result.rowCount ?? 0) === 0) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session ${JSON.stringify(id)} on ${this.location}.`);
    this.#emitChange(id, 'deleted');
    return `${this.location}#trash/${id}`;
  }

  /** {@inheritDoc SessionStore.append} */
  async append(id: string, entry: AppendInput<S>): Promise<StoredEntry<z.output<S>>>;
  async append(id: string, entries: readonly AppendInput<S>[]): Promise<StoredEntry<z.output<S>>[]>;
  async append(id: string, input: AppendInput<S> | readonly AppendInput<S>[]): Promise<StoredEntry<z.output<S>> | StoredEntry<z.output<S>>[]> {
    this.#assertOpen();
    let writer = this.#writers.get(id);
    if (writer === undefined) {
      assertValidId(id);
      writer = this.#writer(id);
    }
    if (writer.error !== undefined) throw writer.error;
    const many = Array.isArray(input);
    const prepared = prepareEntries(many ? (input as readonly unknown[]) : [input], this.#prepare, `session ${id} on ${this.location}`);
    writer.enqueue(prepared.lines.map((line, i) => ({ line, value: prepared.entries[i] as Record<string, unknown>, id: prepared.ids[i] as string, isUpdate: false })));
    const room = writer.waitForRoom();
    if (room !== undefined) await room;
    return many ? prepared.entries : (prepared.entries[0] as StoredEntry<z.output<S>>);
  }

  /** {@inheritDoc SessionStore.flush} */
  flush(id?: string): Promise<void> { return this.#flushWriters(id, this.#options.durable); }

  /** {@inheritDoc SessionStore.sync} */
  sync(id?: string): Promise<void> { return this.#flushWriters(id, true); }

  /** {@inheritDoc SessionStore.read} */
  async read(id: string, options: ReadOptions = {}): Promise<ReadResult<StoredEntry<z.output<S>>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#settle(id);
    return this.#call('read a session', async () => readEntries(this.#pool, await sessionRow(this.#pool, id, this.location), options, this.#validate));
  }

  /** {@inheritDoc SessionStore.stream} */
  async *stream(id: string, options: StreamOptions = {}): AsyncGenerator<StoredEntry<z.output<S>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#settle(id);
    await this.#call('read a session', () => sessionRow(this.#pool, id, this.location));
    for (let seq = 0; ; ) {
      const rows = await this.#call('read a session', () => entriesAfter(this.#pool, id, seq));
      if (rows.length === 0) return;
      seq = Number(rows.at(-1)?.seq);
      const { entries, problems } = decodeRows(rows, this.#validate);
      for (const problem of problems) options.onProblem?.(problem);
      yield* entries;
    }
  }

  /** {@inheritDoc SessionStore.follow} */
  async *follow(id: string, options: FollowOptions = {}): AsyncGenerator<StoredEntry<z.output<S>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#settle(id);
    const row = await this.#call('read a session', () => sessionRow(this.#pool, id, this.location));
    const tail = options.tail ?? 0;
    const first = tail > 0 ? await this.#pool.query<{ seq: string }>('SELECT seq FROM sessionlog_entries WHERE session_id = $1 AND NOT is_update ORDER BY seq DESC LIMIT 1 OFFSET $2', [id, tail - 1]) : undefined;
    let seq = tail > 0 ? Number(first?.rows[0]?.seq ?? 1) - 1 : Number(row.last_seq);
    let wake: (() => void) | undefined;
    const stop = onSessionChange(this, id, () => wake?.());
    const abort = (): void => wake?.();
    options.signal?.addEventListener('abort', abort);
    try {
      while (options.signal?.aborted !== true && this.#closing === undefined) {
        const rows = await this.#call('read a session', () => entriesAfter(this.#pool, id, seq));
        if (rows.length > 0) {
          seq = Number(rows.at(-1)?.seq);
          const { entries, problems } = decodeRows(rows, this.#validate);
          for (const problem of problems) options.onProblem?.(problem);
          yield* entries;
          continue;
        }
        // Woken by a change event (from any process, through NOTIFY), with a poll as a safety net.
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, options.pollIntervalMs ?? 1000).unref();
        });
      }
    } finally {
      stop();
      options.signal?.removeEventListener('abort', abort);
    }
  }

  /** {@inheritDoc SessionStore.search} */
  async *search(query: string, options: SearchOptions = {}): AsyncGenerator<SearchHit> {
    this.#assertOpen();
    checkSearch(query, options);
    if (options.sessions !== undefined) for (const id of options.sessions) assertValidId(id);
    await this.#settleAll();
    yield* searchServer(this.#pool, query, options, this.location);
  }

  /** {@inheritDoc SessionStore.close} */
  /** {@inheritDoc SessionStore.health} */
  async health(): Promise<HealthReport> {
    const t0 = performance.now();
    try {
      await this.#pool.query('SELECT 1');
      return { ok: true, location: this.location, ms: performance.now() - t0 };
    } catch (err) {
      return { ok: false, location: this.location, ms: performance.now() - t0, problem: serverError(err, this.location, 'reach the server').message };
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    process.off('beforeExit', this.#beforeExit);
    try {
      const results = await Promise.allSettled([...this.#writers.values()].map((writer) => writer.close()));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } finally {
      await this.#inFlight.drained();
      await this.#listener?.close();
      await this.#pool.end().catch(() => undefined);
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new SessionStoreError('ERR_CLOSED', `The store on ${this.location} is closed; open it again with openStore().`);
  }

  /** A call to the server (connect.ts: its codes, one retry), counted so that close() waits for it. */
  #call<T>(action: string, task: () => Promise<T>): Promise<T> {
    return this.#inFlight.run(() => callServer(this.location, action, task));
  }

  #writer(id: string): PgWriter {
    let writer = this.#writers.get(id);
    if (writer === undefined) {
      writer = new PgWriter(id, {
        ...this.#options,
        pool: this.#pool,
        where: this.location,
        origin: this.#origin,
        channel: this.#channel,
        toError: (err, action) => serverError(err, this.location, action),
        onCommitted: (sessionId) => this.#emitChange(sessionId, 'changed'),
        onError: (error, sessionId) => emitWriteError(this, error, sessionId),
      });
      this.#writers.set(id, writer);
    }
    return writer;
  }

  async #settle(id: string): Promise<void> {
    await this.#writers.get(id)?.flush(false).catch(() => undefined);
  }

  async #settleAll(): Promise<void> {
    await Promise.all([...this.#writers.values()].map((writer) => writer.flush(false).catch(() => undefined)));
  }

  async #flushWriters(id: string | undefined, durable: boolean): Promise<void> {
    this.#assertOpen();
    if (id !== undefined) {
      assertValidId(id);
      await this.#writers.get(id)?.flush(durable);
      return;
    }
    const results = await Promise.allSettled([...this.#writers.values()].map((writer) => writer.flush(durable)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  #emitChange(id: string, kind: ChangeEvent['kind']): void {
    this.emit(StoreEvents.CHANGE, { id, kind, source: 'local' });
    // Other processes hear of it through NOTIFY (sent in the same transaction for appends).
    if (kind !== 'changed') void this.#pool.query('SELECT pg_notify($1, $2)', [this.#channel, JSON.stringify({ id, kind, origin: this.#origin })]).catch(() => undefined);
  }

  /** A NOTIFY from another store (this process or another): an external change. */
  #external(event: { id: string; kind: ChangeEvent['kind']; origin: string }): void {
    if (event.origin === this.#origin) return;
    this.emit(StoreEvents.CHANGE, { id: event.id, kind: event.kind, source: 'external' });
  }
}
