/**
 * One session's buffer on the PostgreSQL backend: entries wait in memory like the file backend's
 * (the same thresholds and timer), and a flush is one transaction that locks the session's row,
 * inserts the batch with one statement and folds it into the row. A batch is visible whole or not
 * at all; writers of one session take turns on the row lock, so each one's order is kept.
 *
 * Retries write each entry once: entry ids are unique per session (`ON CONFLICT DO NOTHING`), so
 * a batch whose commit was acknowledged by the server but not seen by us (the connection dropped)
 * inserts nothing the second time.
 */
import type pg from 'pg';
import { FlushTimer } from '../core/flush-timer.js';
import { SessionStoreError } from '../core/errors.js';
import { msOf } from '../core/list-query.js';
import { searchableText } from '../search/text.js';
import { foldRecords, type InsertedRecord, ROW_COLUMNS, type SessionRow } from './rows.js';

/** One buffered record. */
export interface PendingRecord {
  /** The JSON text, as it is stored and returned. */
  readonly line: string;
  /** The same, parsed (what `append` returned): folded without parsing it again. */
  readonly value: Record<string, unknown>;
  readonly id: string;
  readonly isUpdate: boolean;
}

/** What a writer needs from its store. */
export interface PgWriterContext {
  readonly pool: pg.Pool;
  readonly where: string;
  /** Tags this store's NOTIFY payloads, so it does not hear its own changes as external. */
  readonly origin: string;
  /** The NOTIFY channel of the store's tables. */
  readonly channel: string;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly intervalMs: number;
  readonly maxBufferedBytes: number;
  readonly durable: boolean;
  readonly toError: (err: unknown, action: string) => SessionStoreError;
  /** The batch was committed (`count` records inserted). */
  readonly onCommitted: (id: string, count: number) => void;
  readonly onError: (error: SessionStoreError, id: string) => void;
}


/** The buffer and flushes of one session. */
export class PgWriter {
  readonly #id: string;
  readonly #ctx: PgWriterContext;
  #pending: PendingRecord[] = [];
  #bytes = 0;
  #chain: Promise<void> = Promise.resolve();
  /** The flush queued behind the one in flight, not started yet. */
  #waiting: { durable: boolean; run: Promise<void> } | undefined;
  readonly #timer: FlushTimer;
  #error: SessionStoreError | undefined;
  #closed = false;

  constructor(id: string, ctx: PgWriterContext) {
    this.#id = id;
    this.#ctx = ctx;
    this.#timer = new FlushTimer(ctx.intervalMs, () => this.flush(this.#ctx.durable), (error) => this.#ctx.onError(error, this.#id));
  }

  /** The sticky error of a failed flush, until a flush succeeds. */
  get error(): SessionStoreError | undefined {
    return this.#error;
  }

  /** Records buffered and not yet committed. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Buffers records and flushes at a threshold. */
  enqueue(records: readonly PendingRecord[]): void {
    if (this.#closed) throw new SessionStoreError('ERR_CLOSED', `The writer of session ${this.#id} on ${this.#ctx.where} is closed.`);
    for (const record of records) {
      this.#pending.push(record);
      this.#bytes += record.line.length;
    }
    if (this.#pending.length >= this.#ctx.maxEntries || this.#bytes >= this.#ctx.maxBytes) this.#timer.now();
    else this.#timer.arm();
  }

  /**
   * Commits everything buffered; `durable` commits synchronously (survives a power loss of the
   * server). A flush waiting behind the one in flight takes every entry buffered by the time it
   * starts, so calls made meanwhile join it rather than queue one small transaction each (a fast
   * producer otherwise turned 20,000 appends into thousands of transactions of a few entries).
   */
  flush(durable: boolean): Promise<void> {
    const waiting = this.#waiting;
    if (waiting !== undefined && (waiting.durable || !durable)) return waiting.run;
    const entry: { durable: boolean; run: Promise<void> } = { durable, run: Promise.resolve() };
    entry.run = this.#chain.then(() => {
      if (this.#waiting === entry) this.#waiting = undefined;
      return this.#flushNow(durable);
    });
    this.#waiting = entry;
    this.#chain = entry.run.catch(() => undefined);
    return entry.run;
  }

  /** Flushes, then refuses further records. */
  async close(): Promise<void> {
    this.#timer.disarm();
    try {
      await this.flush(this.#ctx.durable);
    } finally {
      this.#closed = true;
      this.#timer.stop();
    }
  }

  /** Drops the buffer (the session was deleted). */
  discard(): void {
    this.#timer.disarm();
    this.#pending = [];
    this.#bytes = 0;
    this.#closed = true;
    this.#timer.stop();
  }

  async #flushNow(durable: boolean): Promise<void> {
    if (this.#pending.length === 0) {
      if (durable) await this.#syncOnly();
      this.#error = undefined;
      return;
    }
    let batch = this.#pending;
    this.#pending = [];
    this.#bytes = 0;
    try {
      // One transaction per chunk: a burst buffered while the server was slow is not one huge statement.
      while (batch.length > 0) {
        const chunk = takeChunk(batch);
        const inserted = await this.#commit(chunk, durable);
        batch = batch.slice(chunk.length);
        this.#ctx.onCommitted(this.#id, inserted);
      }
      this.#error = undefined;
      this.#timer.succeeded();
    } catch (err) {
      // Not committed (or not known to be): back in front; a retry inserts each entry once.
      this.#pending = batch.concat(this.#pending);
      this.#bytes = this.#pending.reduce((sum, record) => sum + record.line.length, 0);
      this.#error = err instanceof SessionStoreError ? err : this.#ctx.toError(err, `append to session ${this.#id}`);
      throw this.#error;
    }
  }

  /**
   * Resolves when the buffer is back under `maxBufferedBytes` (backpressure for a producer faster
   * than the server); undefined when it is under already. Never rejects: a failed flush stays
   * sticky for the next append / flush to report.
   */
  waitForRoom(): Promise<void> | undefined {
    if (this.#bytes <= this.#ctx.maxBufferedBytes) return undefined;
    return this.flush(this.#ctx.durable).catch(() => undefined);
  }

  /** One transaction: lock the row, insert the batch, fold it in. Returns the records inserted. */
  async #commit(batch: readonly PendingRecord[], durable: boolean): Promise<number> {
    const client = await this.#ctx.pool.connect();
    try {
      await client.query('BEGIN');
      // A committed flush survives a crash of this process either way; only a durable one must
      // also survive a crash of the server's machine.
      await client.query(durable ? 'SET LOCAL synchronous_commit = on' : 'SET LOCAL synchronous_commit = off');
      const found = await client.query<SessionRow>(`SELECT ${ROW_COLUMNS} FROM sessionlog_sessions WHERE id = $1 AND trashed_at IS NULL FOR UPDATE`, [this.#id]);
      const row = found.rows[0];
      if (row === undefined) {
        throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session ${JSON.stringify(this.#id)} on ${this.#ctx.where}: it was deleted (or never created).`);
      }
      const base = Number(row.last_seq);
      const result = await client.query<{ entry_id: string; seq: string }>(
        `INSERT INTO sessionlog_entries (session_id, seq, entry_id, is_update, line, search_text)
         SELECT $1, $2::bigint + e.ord, e.r->>0, (e.r->>1)::boolean, e.r->>2, e.r->>3
         FROM json_array_elements($3::json) WITH ORDINALITY AS e(r, ord)
         ON CONFLICT (session_id, entry_id) DO NOTHING
         RETURNING entry_id, seq`,
        // One JSON parameter, not four arrays: JSON.stringify is native, while the driver escapes
        // array literals in JavaScript, which cost more than the server's whole insert (measured:
        // docs/backends.md). A line's text survives the JSON string round trip exactly.
        [this.#id, base, JSON.stringify(batch.map((r) => [r.id, r.isUpdate, r.line, textOf(r)]))],
      );
      const seqOf = new Map(result.rows.map((r) => [r.entry_id, Number(r.seq)]));
      const inserted: InsertedRecord[] = [];
      for (const record of batch) {
        const seq = seqOf.get(record.id);
        if (seq === undefined) continue;
        seqOf.delete(record.id);
        inserted.push({ seq, value: record.value, bytes: Buffer.byteLength(record.line) + 1, isUpdate: record.isUpdate });
      }
      foldRecords(row, inserted);
      await client.query(
        `UPDATE sessionlog_sessions SET updated_iso = $2, updated_ms = $3, title = $4, model = $5, cwd = $6, metadata = $7,
           entry_count = $8, bytes = $9, usage_input = $10, usage_output = $11, usage_cache_read = $12, usage_cache_write = $13,
           usage_total = $14, last_seq = $15, last_compaction_seq = $16 WHERE id = $1`,
        [
          this.#id, row.updated_iso, msOf(row.updated_iso ?? row.created_iso), row.title, row.model, row.cwd, JSON.stringify(row.metadata),
          row.entry_count, row.bytes, row.usage_input, row.usage_output, row.usage_cache_read, row.usage_cache_write, row.usage_total,
          base + batch.length, row.last_compaction_seq,
        ],
      );
      await client.query('SELECT pg_notify($1, $2)', [this.#ctx.channel, JSON.stringify({ id: this.#id, kind: 'changed', origin: this.#ctx.origin })]);
      await client.query('COMMIT');
      return inserted.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** A synchronous commit that writes: it flushes the server's WAL up to it, so earlier asynchronous commits are durable too. */
  async #syncOnly(): Promise<void> {
    try {
      await this.#ctx.pool.query("INSERT INTO sessionlog_meta (key, value) VALUES ('last_sync', now()::text) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
    } catch (err) {
      throw this.#ctx.toError(err, 'sync');
    }
  }
}

/** Entries per transaction at most, and bytes. */
const CHUNK_ENTRIES = 1000;
const CHUNK_BYTES = 4 * 1024 * 1024;

/** The first records of `batch` that make one transaction. */
function takeChunk(batch: readonly PendingRecord[]): PendingRecord[] {
  let bytes = 0;
  let n = 0;
  while (n < batch.length && n < CHUNK_ENTRIES && (n === 0 || bytes < CHUNK_BYTES)) bytes += (batch[n++] as PendingRecord).line.length;
  return batch.slice(0, n);
}

/** The text search looks in: the same strings the file backend searches (content, tool calls and results, summaries). */
function textOf(record: PendingRecord): string {
  if (record.isUpdate) return '';
  return searchableText(record.value).join('\n');
}
