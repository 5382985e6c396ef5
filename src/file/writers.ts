/**
 * The file backend's writers, one per session with buffered entries: made on first use (the
 * header read once), flushed together before a listing, written synchronously at process exit,
 * and durable flushes capped so that many sessions syncing at once do not hold every fd across an
 * fsync.
 */
import PQueue from 'p-queue';
import { onProcessExit } from '../core/exit-hooks.js';
import type { SessionStoreError } from '../core/errors.js';
import { sessionPath } from './fs/paths.js';
import { keepInTrash } from './session/trash.js';
import { WindowBudget } from './session/recent.js';
import { SessionWriter } from './session/writer.js';

/** Cap on fds held across an fsync at once (durable flushes of many sessions). */
const FSYNC_CONCURRENCY = 16;
/** How often writers not written to since the last look let go of their buffers. */
const TRIM_INTERVAL_MS = 30_000;
/** What the recent-lines windows of all of a store's sessions may keep together (each: 1,000 lines / 8 MB). */
const RECENT_BUDGET_BYTES = 64 * 1024 * 1024;

/** What a registry needs from its store. */
export interface WriterRegistryOptions {
  readonly dir: string;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly intervalMs: number;
  readonly maxBufferedBytes: number;
  readonly durable: boolean;
  readonly flushOnExit: boolean;
  readonly now: () => number;
  /** The session's header line as a writer keeps it (read from the file; refuses newer formats). */
  readonly headerLine: (id: string) => Promise<string>;
  readonly onWritten: (id: string) => void;
  readonly onError: (error: SessionStoreError, id: string) => void;
  readonly onWarning: (code: string, message: string, id: string) => void;
}

/** The writers of one store. Ids reaching it are already validated. */
export class WriterRegistry {
  readonly #options: WriterRegistryOptions;
  readonly #writers = new Map<string, SessionWriter>();
  readonly #opening = new Map<string, Promise<SessionWriter>>();
  readonly #fsyncQueue = new PQueue({ concurrency: FSYNC_CONCURRENCY });
  readonly #recentBudget = new WindowBudget(RECENT_BUDGET_BYTES);
  readonly #removeExitHook: (() => void) | undefined;
  readonly #trimTimer: NodeJS.Timeout;

  constructor(options: WriterRegistryOptions) {
    this.#options = options;
    this.#removeExitHook = options.flushOnExit ? onProcessExit(() => this.#flushAllSync()) : undefined;
    this.#trimTimer = setInterval(() => this.trimIdle(), TRIM_INTERVAL_MS).unref();
  }

  /** Lets writers not written to since the last call let go of their buffers; returns how many did. */
  trimIdle(): number {
    let trimmed = 0;
    for (const writer of this.#writers.values()) if (writer.trimIfIdle()) trimmed++;
    return trimmed;
  }

  /** The session's writer if it has one already (the common append: no promise, no lookup by path). */
  peek(id: string): SessionWriter | undefined {
    return this.#writers.get(id);
  }

  /** The session's writer, set up on first use; concurrent first appends share one setup. */
  async get(id: string): Promise<SessionWriter> {
    const existing = this.#writers.get(id);
    if (existing !== undefined) return existing;
    let opening = this.#opening.get(id);
    if (opening === undefined) {
      opening = this.#open(id).finally(() => this.#opening.delete(id));
      this.#opening.set(id, opening);
    }
    return opening;
  }

  /** Registers the writer of a session this store just created, whose header line it knows. */
  adopt(id: string, headerLine: string): void {
    if (!this.#writers.has(id)) this.#writers.set(id, this.#make(id, headerLine));
  }

  /** Drops a session's buffered entries without writing them (it is being deleted or trashed). */
  discard(id: string): void {
    this.#writers.get(id)?.discard();
    this.#writers.delete(id);
  }

  /** Flushes a session's buffer before it is read; a failure stays sticky for append / flush to report. */
  async settle(id: string): Promise<void> {
    await this.#writers.get(id)?.flush(false).catch(() => undefined);
  }

  /** Flushes every buffer before a listing; failures stay sticky for append / flush to report. */
  async settleAll(): Promise<void> {
    await Promise.all([...this.#writers.values()].map((writer) => writer.flush(false).catch(() => undefined)));
  }

  /** Flushes one session (or all), fsynced when `durable`; rejects with the first failure. */
  async flush(id: string | undefined, durable: boolean): Promise<void> {
    if (id !== undefined) {
      await this.#writers.get(id)?.flush(durable);
      return;
    }
    const results = await Promise.allSettled([...this.#writers.values()].map((writer) => writer.flush(durable)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * Flushes and closes every writer. Entries that could not be written stay registered for the
   * exit flush, a last chance; the first failure is thrown.
   */
  async close(): Promise<void> {
    clearInterval(this.#trimTimer);
    const writers = [...this.#writers.entries()];
    const results = await Promise.allSettled(writers.map(async ([id, writer]) => this.#closeOne(id, writer)));
    await this.#fsyncQueue.onIdle();
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    this.#removeExitHook?.();
  }

  /**
   * Closes one writer. Entries buffered for a session whose file another program deleted or moved
   * have nowhere to go: they are kept in the trash as a session file of their own and a warning
   * says where, so that neither is `close()` an exception that crashes an app on its way out nor
   * do the entries vanish.
   */
  async #closeOne(id: string, writer: SessionWriter): Promise<void> {
    try {
      await writer.close();
    } catch (err) {
      if ((err as SessionStoreError).code !== 'ERR_SESSION_NOT_FOUND' || writer.pending === 0) throw err;
      const count = writer.pending;
      const kept = await keepInTrash(this.#options.dir, id, writer.takeAsFile(), this.#options.now());
      this.#writers.delete(id);
      this.#options.onWarning(
        'SESSIONLOG_ORPHANED',
        `${sessionPath(this.#options.dir, id)} was deleted or moved by another program while ${count} entries were buffered for it; they were kept in ${kept}.`,
        id,
      );
    }
  }

  /** Every writer's buffer, written synchronously (exit-hooks reports a failure and goes on to the next store). */
  #flushAllSync(): void {
    let failure: unknown;
    for (const writer of this.#writers.values()) {
      try {
        writer.flushSync();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure as Error;
  }

  async #open(id: string): Promise<SessionWriter> {
    const writer = this.#make(id, await this.#options.headerLine(id));
    this.#writers.set(id, writer);
    return writer;
  }

  #make(id: string, headerLine: string): SessionWriter {
    const o = this.#options;
    return new SessionWriter(
      sessionPath(o.dir, id),
      headerLine,
      {
        maxEntries: o.maxEntries,
        maxBytes: o.maxBytes,
        intervalMs: o.intervalMs,
        maxBufferedBytes: o.maxBufferedBytes,
        durable: o.durable,
        schedule: (task) => this.#fsyncQueue.add(task),
        recentBudget: this.#recentBudget,
      },
      {
        onWritten: () => o.onWritten(id),
        onError: (error) => o.onError(error, id),
        onWarning: (message, code) => o.onWarning(code, message, id),
      },
    );
  }
}
