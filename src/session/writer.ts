/**
 * One writer per session: an in-memory buffer of encoded lines, flushed as one `write` of
 * complete lines on a file opened for appending. Knows files, not the index.
 *
 * Why the fd is opened and closed on every flush: an editor that saves by rename swaps the file's
 * inode, and appends through a held fd would go into the deleted inode (deps.md §0 item 5).
 * Why the syscalls of a flush are synchronous: open, fstat, write and close on the page cache take
 * microseconds; five thread-pool round trips would cost more than the work. Only fsync, which can
 * take milliseconds, runs on the thread pool.
 */
import fs from 'node:fs';
import { ioError, SessionStoreError } from '../errors.js';
import { closeQuietly, fdatasync, openForAppendSync, writeAllSync } from '../fs/files.js';

/** Buffer thresholds and durability of one writer. */
export interface WriterOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly intervalMs: number;
  /** Above this many buffered bytes, `waitForRoom()` waits for the flush in flight. */
  readonly maxBufferedBytes: number;
  readonly durable: boolean;
  /** Runs a durable flush, which holds an fd across an fsync: the store caps how many run at once. */
  readonly schedule: <T>(task: () => Promise<T>) => Promise<T>;
}

/** What the writer tells its owner. */
export interface WriterEvents {
  /** Entries reached the OS. */
  onWritten(count: number, bytes: number): void;
  /** A background (threshold or timer) flush failed; the error is also kept and thrown by the next append / flush. */
  onError(error: SessionStoreError): void;
  /** Something unusual was handled (a torn tail sealed, an emptied file given its header back). */
  onWarning(message: string, code: string): void;
}

interface Batch {
  readonly lines: string[];
  readonly sizes: number[];
  readonly body: Buffer;
}

const NEWLINE = Buffer.from('\n');
/** Retry a failing background flush no more often than this, doubling from `intervalMs`. */
const MAX_RETRY_MS = 30_000;

/** Buffers and writes one session's entries. */
export class SessionWriter {
  readonly #file: string;
  readonly #headerLine: string;
  readonly #options: WriterOptions;
  readonly #events: WriterEvents;
  #lines: string[] = [];
  #lineBytes: number[] = [];
  #bytes = 0;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #retryMs: number;
  #error: SessionStoreError | undefined;
  /** Written but not yet fsynced. */
  #unsynced = false;
  /** Where this writer's last write ended, to skip the torn-tail check when nobody else wrote. */
  #lastEnd: { ino: number; size: number } | undefined;
  #closed = false;

  constructor(file: string, headerLine: string, options: WriterOptions, events: WriterEvents) {
    this.#file = file;
    this.#headerLine = headerLine;
    this.#options = options;
    this.#events = events;
    this.#retryMs = options.intervalMs;
  }

  /** The sticky error of a failed write, until a flush succeeds. */
  get error(): SessionStoreError | undefined {
    return this.#error;
  }

  /** Entries buffered and not yet handed to the OS. */
  get pending(): number {
    return this.#lines.length;
  }

  /** Buffers encoded lines (each ending in `\n`) with their byte lengths, and flushes at a threshold. */
  enqueue(lines: readonly string[], bytes: readonly number[]): void {
    if (this.#closed) throw new SessionStoreError('ERR_CLOSED', `The writer of ${this.#file} is closed.`);
    for (let i = 0; i < lines.length; i++) {
      this.#lines.push(lines[i] as string);
      const size = bytes[i] as number;
      this.#lineBytes.push(size);
      this.#bytes += size;
    }
    const { maxEntries, maxBytes } = this.#options;
    if (this.#lines.length >= maxEntries || this.#bytes >= maxBytes) this.#background();
    else this.#arm(this.#options.intervalMs);
  }

  /**
   * Resolves when the buffer is back under `maxBufferedBytes` (backpressure for fast producers).
   * Never rejects: the entries are already buffered, and a failed flush stays sticky for the next
   * append / flush to report, so a caller never retries (and duplicates) entries that were kept.
   */
  async waitForRoom(): Promise<void> {
    if (this.#bytes > this.#options.maxBufferedBytes) await this.flush(this.#options.durable).catch(() => undefined);
  }

  /**
   * Writes everything buffered (one write), and with `durable` fsyncs the file. Rejects with the
   * write's error; the entries then stay buffered and the next call retries them.
   */
  flush(durable: boolean): Promise<void> {
    const task = durable ? () => this.#options.schedule(() => this.#flushNow(true)) : () => this.#flushNow(false);
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Synchronous flush for exit handlers. An async flush never holds a batch that is not yet
   * written (taking and writing happen in one synchronous step), so the buffer is all there is.
   */
  flushSync(): void {
    this.#disarm();
    if (this.#lines.length === 0) return;
    const batch = this.#takeBatch();
    let fd: number;
    try {
      fd = this.#writeBatch(batch);
    } catch (err) {
      // The process may live on (a signal with other listeners): keep the entries for a retry.
      this.#restore(batch);
      throw err;
    }
    try {
      if (this.#options.durable) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Flushes, then refuses further entries. */
  async close(): Promise<void> {
    this.#disarm();
    try {
      await this.flush(this.#options.durable);
    } finally {
      this.#closed = true;
    }
  }

  /** Drops the buffer without writing (the session was deleted). */
  discard(): void {
    this.#disarm();
    this.#lines = [];
    this.#lineBytes = [];
    this.#bytes = 0;
    this.#closed = true;
  }

  #background(): void {
    this.#disarm();
    this.flush(this.#options.durable).catch((err: unknown) => {
      // No caller is waiting on a background flush: report it, keep it sticky, retry backed off.
      this.#events.onError(err as SessionStoreError);
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
      if (!this.#closed) this.#arm(this.#retryMs);
    });
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#background();
    }, ms);
    // A pending flush must not keep the process alive; the exit handler writes what is left.
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #takeBatch(): Batch {
    const body = Buffer.allocUnsafe(this.#bytes);
    let at = 0;
    for (let i = 0; i < this.#lines.length; i++) {
      at += body.write(this.#lines[i] as string, at);
    }
    const batch: Batch = { lines: this.#lines, sizes: this.#lineBytes, body };
    this.#lines = [];
    this.#lineBytes = [];
    this.#bytes = 0;
    return batch;
  }

  /** Puts a failed batch's lines back in front of anything appended since. */
  #restore(batch: Batch): void {
    this.#lines = batch.lines.concat(this.#lines);
    this.#lineBytes = batch.sizes.concat(this.#lineBytes);
    this.#bytes += batch.body.length;
  }

  async #flushNow(durable: boolean): Promise<void> {
    if (this.#lines.length === 0) {
      if (durable && this.#unsynced) await this.#fsyncOnly();
      this.#error = undefined;
      return;
    }
    const batch = this.#takeBatch();
    let fd: number | undefined;
    try {
      fd = this.#writeBatch(batch);
      if (durable) {
        try {
          await fdatasync(fd);
        } catch (err) {
          // Never retried and called a success (fsyncgate): the bytes are written but not durable.
          throw ioError('fsync', this.#file, err);
        }
        this.#unsynced = false;
      }
      this.#error = undefined;
      this.#retryMs = this.#options.intervalMs;
    } catch (err) {
      // Entries not written go back in front; written ones (only the fsync failed) are not written twice.
      if (fd === undefined) this.#restore(batch);
      this.#error = err instanceof SessionStoreError ? err : ioError('append to', this.#file, err);
      throw this.#error;
    } finally {
      if (fd !== undefined) await closeQuietly(fd);
    }
  }

  async #fsyncOnly(): Promise<void> {
    const { fd } = openForAppendSync(this.#file);
    try {
      await fdatasync(fd);
      this.#unsynced = false;
    } catch (err) {
      this.#error = ioError('fsync', this.#file, err);
      throw this.#error;
    } finally {
      await closeQuietly(fd);
    }
  }

  /** Opens, seals a torn tail, writes the batch in one call; returns the still-open fd. */
  #writeBatch(batch: Batch): number {
    const { fd, stat } = openForAppendSync(this.#file);
    try {
      const data = this.#prepare(fd, stat, batch.body);
      const before = stat.size;
      try {
        writeAllSync(fd, data);
      } catch (err) {
        undoPartial(fd, before, err);
        throw err;
      }
      this.#unsynced = true;
      this.#lastEnd = { ino: stat.ino, size: before + data.length };
      this.#events.onWritten(batch.lines.length, data.length);
      return fd;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** The bytes to write: the batch, after a `\n` that seals a torn last line, or after the header of an emptied file. */
  #prepare(fd: number, stat: fs.Stats, body: Buffer): Buffer {
    if (stat.size === 0) {
      this.#events.onWarning(
        `${this.#file} was emptied by another program; its header was written again before the new entries.`,
        'SESSIONLOG_EMPTIED',
      );
      return Buffer.concat([Buffer.from(this.#headerLine), body]);
    }
    const last = this.#lastEnd;
    if (last !== undefined && last.ino === stat.ino && last.size === stat.size) return body;
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, stat.size - 1);
    if (byte[0] === 0x0a) return body;
    // A torn last line (a crash, or an editor that saves without a final newline): never glue onto it.
    this.#events.onWarning(
      `${this.#file} did not end with a newline; it was sealed so the torn line stays separate.`,
      'SESSIONLOG_SEALED',
    );
    return Buffer.concat([NEWLINE, body]);
  }
}

/** After a failed write, removes our partial line if nobody else has written since (else the next flush seals it). */
function undoPartial(fd: number, before: number, err: unknown): void {
  const written = (err as { written?: unknown }).written;
  if (typeof written !== 'number' || written === 0) return;
  try {
    if (fs.fstatSync(fd).size === before + written) fs.ftruncateSync(fd, before);
  } catch {
    // Left as a torn line: the next flush seals it, so it is never glued to.
  }
}
