/**
 * The file backend's store: a thin facade that checks ids, then hands each call to the module that
 * does it (writers, readers, the catalog, search, doctor, rewrites). Holds no format or file logic.
 */
import type { z } from 'zod';
import type { SessionStore } from '../core/contract.js';
import { emitWarning, emitWriteError, onSessionChange } from '../core/emit.js';
import { SessionStoreError, unlessNotFound } from '../core/errors.js';
import { assertValidId, uuidv7 } from '../core/ids.js';
import type { SessionInfo } from '../core/info.js';
import type { ListFilter, ListOptions, ListPage } from '../core/list-options.js';
import type { ResolvedOptions } from '../core/options.js';
import { type AppendInput, type ChangeEvent, type CreateInit, type FollowOptions, type ForkOptions, type MergeOptions, type ReadOptions,
  type ReadResult, type SearchHit, type SearchOptions, type SessionPatch, StoreEvents, type StoredEntry, type StreamOptions } from '../core/types.js';
import { checkStore, type CheckOptions, type CheckReport } from '../doctor/doctor.js';
import { encodeJson, encodeLine } from '../format/codec.js';
import { buildHeader, buildUpdate } from '../format/header.js';
import { type PrepareContext, prepareEntries } from '../format/prepare.js';
import { Redactor, redactorFor } from '../secrets/redact.js';
import { type RedactReport, redactSession } from './rewrite/redact.js';
import { folderKey } from './secret-key.js';
import type { EntryValidator } from '../format/records.js';
import type { EntrySchema, Header } from '../format/schema.js';
import { StoreBase, unguarded, whileOpen } from '../core/store-base.js';
import { FileArtifacts } from './artifacts.js';
import { FileEmbeddings } from './embeddings/file-embeddings.js';
import type { HealthReport } from '../core/stats.js';
import { folderHealth } from './fs/health.js';
import { makeValidator } from '../format/validate.js';
import { checkSearch, collectTargets, searchTargets } from '../search/search.js';
import { Catalog } from './catalog/catalog.js';
import { schemaTag } from './catalog/settings.js';
import { createExclusive, ensureDir } from './fs/files.js';
import { withRewriteLock } from './fs/lock.js';
import { sessionPath } from './fs/paths.js';
import { conflictCopies } from './rewrite/merge-files.js';
import { mergeSession, type MergeReport } from './rewrite/merge.js';
import { repairSession, type RepairReport } from './rewrite/repair.js';
import { followSession } from './session/follow.js';
import { forkSession } from './session/fork.js';
import { writableHeaderLine } from './session/header-line.js';
import { readLines, readSession } from './session/reader.js';
import type { RewriteBase } from './rewrite/rewrite.js';
import { matchPrefix, sessionIds } from './session/resolve.js';
import { SessionSummary } from './session/summary.js';
import { moveToTrash, removeSessionFile } from './session/trash.js';
import type { FileMaintenance } from './maintenance.js';
import { WriterRegistry } from './writers.js';

/**
 * A session store on one folder: the file backend (`openStore({ dir })`). Beyond the
 * {@link SessionStore} contract it has the {@link FileMaintenance} calls only files need.
 * @typeParam S - the entry schema; entries read are `StoredEntry<z.output<S>>`.
 */
export class FileSessionStore<S extends z.ZodType = typeof EntrySchema> extends StoreBase implements SessionStore<S>, FileMaintenance {
  /** Files and images of the sessions, content-addressed, out of the transcripts (docs/format.md). */
  readonly artifacts: FileArtifacts;
  /** Vectors for recall, searched by cosine similarity, in one binary file (docs/format.md). */
  readonly embeddings: FileEmbeddings;
  /** The store folder, resolved to an absolute path. */
  readonly dir: string;
  readonly #options: ResolvedOptions;
  readonly #validate: EntryValidator<StoredEntry<z.output<S>>>;
  readonly #prepareContext: PrepareContext<StoredEntry<z.output<S>>>;
  readonly #writers: WriterRegistry;
  #closing: Promise<void> | undefined;
  /** What listing needs of every session: a cache of the files, kept live with `watch`. */
  readonly #catalog: Catalog;
  /** The entry schema's tag (`check()` compares the catalog file's against it). */
  readonly #schemaTag: string;

  /** Opens (and creates, mode 0700) a store folder; use `openStore`. @throws ERR_INVALID_OPTION, ERR_IO */
  static async open<S extends z.ZodType>(options: ResolvedOptions, schema: S | undefined): Promise<FileSessionStore<S>> {
    const dir = await ensureDir(options.dir);
    const redactor = redactorFor(options.redact, () => folderKey(dir));
    const store = new FileSessionStore<S>(dir === options.dir ? options : Object.freeze({ ...options, dir }), schema, redactor);
    // Without `watch` the catalog loads on first use: commands that never list pay nothing.
    if (options.watch) await store.#catalog.start().catch(async (err: unknown) => {
      await store.close().catch(() => undefined);
      throw err;
    });
    return store;
  }

  private constructor(options: ResolvedOptions, schema: S | undefined, redactor: Redactor | undefined) {
    super();
    this.dir = options.dir;
    this.artifacts = whileOpen(new FileArtifacts(options.dir, options.durable), () => this.#assertOpen());
    const redact = <T>(value: T): T => redactor?.value(value) ?? value;
    this.embeddings = whileOpen(new FileEmbeddings({ ...options, redact, warn: (message, path) => emitWarning(this, { code: 'SESSIONLOG_EMBEDDINGS_DAMAGED', message: `${path}: ${message}` }) }), () => this.#assertOpen());
    this.#options = options;
    this.#validate = makeValidator(schema);
    this.#prepareContext = {
      validate: this.#validate,
      maxEntryBytes: options.maxEntryBytes,
      newId: () => uuidv7(options.now()),
      now: options.now,
      redactor,
    };
    this.#schemaTag = schemaTag(schema);
    this.#catalog = new Catalog({
      dir: options.dir,
      reader: this.#readerContext(),
      schema: this.#schemaTag,
      watch: options.watch ? { reconcileIntervalMs: options.reconcileIntervalMs } : undefined,
      hooks: {
        change: (id, kind) => this.emit(StoreEvents.CHANGE, { id, kind, source: 'external' } satisfies ChangeEvent),
        warn: (code, message, id) => emitWarning(this, id === undefined ? { code, message } : { code, message, id }),
      },
    });
    this.#writers = new WriterRegistry({
      ...options,
      headerLine: (id) => writableHeaderLine(sessionPath(this.dir, id), () => this.#header(id, {})),
      onWritten: (id) => this.#emitChange(id, 'changed'),
      onError: (error, id) => emitWriteError(this, error, id),
      onWarning: (code, message, id) => emitWarning(this, { code, message, id }),
    });
  }

  /** The store folder (the contract's name for where a store lives). */
  get location(): string { return this.dir; }

  /** {@inheritDoc SessionStore.create} */
  async create(init: CreateInit = {}): Promise<SessionInfo> {
    this.#assertOpen();
    const id = init.id ?? uuidv7(this.#options.now());
    assertValidId(id);
    const header = this.#header(id, init);
    const file = sessionPath(this.dir, id);
    const line = encodeLine(header);
    const data = Buffer.from(line);
    await createExclusive(file, data, this.#options.durable);
    // The writer knows the header from the start: no read on the first append.
    this.#writers.adopt(id, line);
    this.#emitChange(id, 'created');
    return SessionSummary.ofNewSession(id, line, data.length);
  }

  /** {@inheritDoc SessionStore.list} */
  async list(options: ListOptions = {}): Promise<ListPage> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return this.#catalog.list(options);
  }

  /** {@inheritDoc SessionStore.latest} */
  async latest(filter?: ListFilter): Promise<SessionInfo | undefined> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return this.#catalog.latest(filter);
  }

  /** {@inheritDoc FileMaintenance.reindex} */
  async reindex(): Promise<number> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return this.#catalog.reindex();
  }

  /** {@inheritDoc SessionStore.get} */
  async get(id: string): Promise<SessionInfo | undefined> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    return unlessNotFound(this.#summarize(id));
  }

  /** {@inheritDoc SessionStore.update} */
  async update(id: string, patch: SessionPatch): Promise<SessionInfo> {
    this.#assertOpen();
    assertValidId(id);
    const record = buildUpdate(this.#prepareContext.redactor?.value(patch) ?? patch, uuidv7(this.#options.now()), new Date(this.#options.now()).toISOString());
    const writer = await this.#writers.get(id);
    if (writer.error !== undefined) throw writer.error;
    writer.enqueue([encodeJson(record)], [record['id'] as string]);
    await writer.flush(this.#options.durable);
    return this.#summarize(id);
  }

  /** {@inheritDoc SessionStore.delete} */
  async delete(id: string): Promise<void> {
    this.#assertOpen();
    assertValidId(id);
    this.#writers.discard(id);
    if (await removeSessionFile(sessionPath(this.dir, id))) this.#emitChange(id, 'deleted');
    await unguarded(this.artifacts).release(id);
    await unguarded(this.embeddings).deleteBySession(id);
  }

  /** {@inheritDoc SessionStore.fork} */
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

  /** {@inheritDoc SessionStore.append} */
  async append(id: string, entry: AppendInput<S>): Promise<StoredEntry<z.output<S>>>;
  async append(id: string, entries: readonly AppendInput<S>[]): Promise<StoredEntry<z.output<S>>[]>;
  async append(id: string, input: AppendInput<S> | readonly AppendInput<S>[]): Promise<StoredEntry<z.output<S>> | StoredEntry<z.output<S>>[]> {
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
    const { entries, lines, ids } = prepareEntries(many ? (input as readonly unknown[]) : [input], this.#prepareContext, writer.file);
    // Buffered before any await, so entries land in call order even when appends are not awaited.
    // Awaited only over the cap: an await kept every pending append's lines alive (docs/performance.md).
    writer.enqueue(lines, ids);
    const room = writer.waitForRoom();
    if (room !== undefined) await room;
    return many ? entries : (entries[0] as StoredEntry<z.output<S>>);
  }

  /** {@inheritDoc SessionStore.flush} */
  flush(id?: string): Promise<void> { return this.#flushWriters(id, false); }

  /** {@inheritDoc SessionStore.sync} */
  sync(id?: string): Promise<void> { return this.#flushWriters(id, true); }

  /** {@inheritDoc SessionStore.read} */
  async read(id: string, options: ReadOptions = {}): Promise<ReadResult<StoredEntry<z.output<S>>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    return readSession(sessionPath(this.dir, id), this.#readerContext(), options);
  }

  /** {@inheritDoc SessionStore.stream} */
  async *stream(id: string, options: StreamOptions = {}): AsyncGenerator<StoredEntry<z.output<S>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    for await (const item of readLines(sessionPath(this.dir, id), this.#readerContext())) {
      if (item.kind === 'entry') yield item.entry;
      else if (item.kind === 'problem') options.onProblem?.(item.problem);
    }
  }

  /** {@inheritDoc SessionStore.resolveId} */
  async resolveId(name: string): Promise<string> {
    this.#assertOpen();
    return matchPrefix(await sessionIds(this.dir), name, this.dir);
  }

  /** {@inheritDoc SessionStore.ids} */
  async ids(): Promise<string[]> {
    this.#assertOpen();
    return sessionIds(this.dir);
  }

  /** {@inheritDoc SessionStore.follow} */
  async *follow(id: string, options: FollowOptions = {}): AsyncGenerator<StoredEntry<z.output<S>>> {
    this.#assertOpen();
    assertValidId(id);
    await this.#writers.settle(id);
    yield* followSession(sessionPath(this.dir, id), {
      reader: this.#readerContext(),
      subscribe: (notify) => onSessionChange(this, id, notify),
      isOpen: () => this.#closing === undefined,
      pollIntervalMs: options.pollIntervalMs ?? (this.#options.watch ? 1000 : 200),
    }, options);
  }

  /** {@inheritDoc SessionStore.search} */
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

  /** {@inheritDoc FileMaintenance.check} */
  async check(options: CheckOptions = {}): Promise<CheckReport> {
    this.#assertOpen();
    await this.#writers.settleAll();
    return checkStore(this.dir, { reader: this.#readerContext(), now: this.#options.now(), indexSchema: this.#schemaTag }, options);
  }

  /** {@inheritDoc FileMaintenance.repair} */
  async repair(id: string): Promise<RepairReport> {
    const report = await this.#rewrite(id, (job) => repairSession(job));
    if (report.repaired) this.#emitChange(id, 'changed');
    return report;
  }

  /** {@inheritDoc FileMaintenance.mergeConflicts} */
  async mergeConflicts(id: string, options: MergeOptions = {}): Promise<MergeReport> {
    const report = await this.#rewrite(id, async (job) => mergeSession({ ...job, dir: this.dir, copies: await conflictCopies(this.dir, id, options.copies) }));
    if (report.merged) this.#emitChange(id, 'changed');
    return report;
  }

  /** {@inheritDoc FileMaintenance.redactSecrets} */
  async redactSecrets(id: string, options: { dryRun?: boolean } = {}): Promise<RedactReport> {
    // The store's key even when appends are not redacted (`redact: false`).
    const redactor = this.#prepareContext.redactor ?? new Redactor(() => folderKey(this.dir));
    const report = await this.#rewrite(id, (job) => redactSession(job, redactor, options.dryRun === true));
    if (report.redacted) this.#emitChange(id, 'changed');
    return report;
  }

  /** {@inheritDoc SessionStore.health} */
  health = (): Promise<HealthReport> => folderHealth(this.dir);

  /** {@inheritDoc SessionStore.trash} */
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
    this.#closing ??= this.#writers.close().finally(() => this.#catalog.close());
    return this.#closing;
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
    if (this.#closing !== undefined) throw new SessionStoreError('ERR_CLOSED', `The store on ${this.dir} is closed; open it again with openStore().`);
  }

  #readerContext(): { validate: EntryValidator<StoredEntry<z.output<S>>>; maxLineBytes: number } {
    return { validate: this.#validate, maxLineBytes: this.#options.maxEntryBytes };
  }

  #header(id: string, init: CreateInit): Header {
    return buildHeader(id, this.#prepareContext.redactor?.value(init) ?? init, new Date(this.#options.now()).toISOString());
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
    this.emit(StoreEvents.CHANGE, { id, kind, source: 'local' });
  }
}
