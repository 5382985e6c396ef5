/**
 * One writer per session: an in-memory buffer of encoded lines, flushed as one `writev` of
 * complete lines on a file opened for appending. Knows files, not the index.
 *
 * Why the fd is opened and closed on every flush: an editor that saves by rename swaps the file's
 * inode, and appends through a held fd would go into the deleted inode (docs/reliability.md, E rows).
 * Why the syscalls of a flush are synchronous: open, fstat, write and close on the page cache take
 * microseconds; five thread-pool round trips would cost more than the work. Only fsync, which can
 * take milliseconds, runs on the thread pool.
 */
import fs from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FlushTimer } from '../../core/flush-timer.js';
import { ioError, SessionStoreError } from '../../core/errors.js';
import { isRewriteLocked, waitForRewrite } from '../fs/lock.js';
import { closeQuietly, closeSyncQuietly, fdatasync, openForAppendSync, writeAllSync } from '../fs/files.js';
import { type Batch, BatchBuffer } from './batch.js';
import { RecentLines, type WindowBudget } from './recent.js';
import { endsWithNewline, rewriteGlued, undoPartial } from './tail.js';

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
  /** The cap this writer's recent-lines window shares with the store's other writers. */
  readonly recentBudget?: WindowBudget;
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

const NEWLINE = Buffer.from('\n');
/** How far back a writer can restore entries an external rewrite dropped. */
const RECENT_ENTRIES = 1000;
const RECENT_BYTES = 8 * 1024 * 1024;

/** Buffers and writes one session's entries. */
export class SessionWriter {
  readonly #file: string;
  readonly #headerLine: string;
  readonly #options: WriterOptions;
  readonly #events: WriterEvents;
  readonly #pending = new BatchBuffer();
  readonly #recent: RecentLines;
  /** Set when an fsync failed: before the next write, check the file still holds what we wrote. */
  #verify = false;
  /**
   * Set when the file was replaced by a rewrite of this store's own kind (a repair or merge seen
   * holding its lock, or a rename over the file during our write): entries it did not carry over
   * are appended again as designed, which is no news for a warning.
   */
  #storeRewrite = false;
  #chain: Promise<void> = Promise.resolve();
  readonly #timer: FlushTimer;
  #error: SessionStoreError | undefined;
  /** Written but not yet fsynced. */
  #unsynced = false;
  /** Where this writer's last write ended, to skip the torn-tail check when nobody else wrote. */
  #lastEnd: { ino: number; size: number } | undefined;
  #closed = false;
  /** Entries were enqueued since the last {@link trimIfIdle}. */
  #active = false;

  constructor(file: string, headerLine: string, options: WriterOptions, events: WriterEvents) {
    this.#file = file;
    this.#headerLine = headerLine;
    this.#options = options;
    this.#events = events;
    this.#recent = new RecentLines(RECENT_ENTRIES, RECENT_BYTES, (buffer) => this.#pending.giveBack(buffer), options.recentBudget);
    this.#timer = new FlushTimer(options.intervalMs, () => this.flush(this.#options.durable), (error) => this.#events.onError(error));
  }

  /** The sticky error of a failed write, until a flush succeeds. */
  get error(): SessionStoreError | undefined {
    return this.#error;
  }

  /** The session file. */
  get file(): string {
    return this.#file;
  }

  /** Entries buffered and not yet handed to the OS. */
  get pending(): number {
    return this.#pending.count;
  }

  /** Buffers lines (JSON texts without their `\n`) with their entry ids, and flushes at a threshold. */
  enqueue(lines: readonly string[], ids: readonly (string | undefined)[]): void {
    if (this.#closed) throw new SessionStoreError('ERR_CLOSED', `The writer of ${this.#file} is closed.`);
    this.#active = true;
    for (let i = 0; i < lines.length; i++) {
      this.#pending.push(lines[i] as string, ids[i]);
    }
    const { maxEntries, maxBytes } = this.#options;
    if (this.#pending.count >= maxEntries || this.#pending.bytes >= maxBytes) this.#timer.now();
    else this.#timer.arm();
  }

  /**
   * Lets go of the writer's buffers if nothing was enqueued since the last call and nothing is
   * buffered: a store that wrote to thousands of sessions kept a 64 KiB buffer (and spares) for
   * each until it closed. Returns whether it did.
   */
  trimIfIdle(): boolean {
    const idle = !this.#active && this.#pending.count === 0;
    if (idle) this.#pending.trim();
    this.#active = false;
    return idle;
  }

  /**
   * Resolves when the buffer is back under `maxBufferedBytes` (backpressure for fast producers);
   * undefined when it is under already, so the common append allocates no promise here.
   * Never rejects: the entries are already buffered, and a failed flush stays sticky for the next
   * append / flush to report, so a caller never retries (and duplicates) entries that were kept.
   */
  waitForRoom(): Promise<void> | undefined {
    if (this.#pending.bytes <= this.#options.maxBufferedBytes) return undefined;
    return this.flush(this.#options.durable).catch(() => undefined);
  }

  /**
   * Writes everything buffered (one `writev`), and with `durable` fsyncs the file. Rejects with the
   * write's error; the entries then stay buffered and the next call retries them.
   */
  flush(durable: boolean): Promise<void> {
    const task = durable ? () => this.#options.schedule(() => this.#flushNow(true)) : () => this.#flushNow(false);
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => undefined);
    // A buffered flush is synchronous work: its caller hears back after an event-loop turn, so a
    // loop of awaited flushes cannot starve timers, signals and I/O. The next flush does not wait for it.
    return run.then(nextTurn, (err: unknown) =>
      nextTurn().then(() => {
        throw err;
      }));
  }

  /**
   * Synchronous flush for exit handlers. An async flush never holds a batch that is not yet
   * written (taking and writing happen in one synchronous step), so the buffer is all there is.
   */
  flushSync(): void {
    this.#timer.disarm();
    if (this.#pending.count === 0) return;
    const batch = this.#pending.take();
    let fd: number;
    try {
      fd = this.#writeBatch(batch);
    } catch (err) {
      // The process may live on (a signal with other listeners): keep the entries for a retry.
      this.#pending.putBack(batch);
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
    this.#timer.disarm();
    try {
      await this.flush(this.#options.durable);
    } finally {
      this.#closed = true;
      this.#timer.stop();
      this.#recent.dispose();
    }
  }

  /**
   * The buffered entries as a session file of their own (the header line, then the lines), and
   * the buffer dropped: for entries whose session file another program deleted or moved.
   */
  takeAsFile(): Buffer {
    const data = Buffer.concat([Buffer.from(this.#headerLine), this.#pending.body]);
    this.discard();
    return data;
  }

  /** Drops the buffer without writing (the session was deleted). */
  discard(): void {
    this.#timer.disarm();
    this.#pending.clear();
    this.#closed = true;
    this.#timer.stop();
    this.#recent.dispose();
  }

  async #flushNow(durable: boolean): Promise<void> {
    if (this.#pending.count === 0) {
      if (durable && this.#unsynced) await this.#fsyncOnly();
      this.#error = undefined;
      return;
    }
    const batch = this.#pending.take();
    let fd: number | undefined;
    try {
      fd = await this.#writeWhenNoRewrite(batch);
      if (durable) {
        try {
          await fdatasync(fd);
        } catch (err) {
          // Never retried and called a success (fsyncgate): after a failed fsync the kernel may
          // have dropped the pages. The next write first checks the file by id and rewrites what
          // is missing.
          this.#verify = true;
          throw ioError('fsync', this.#file, err);
        }
        this.#unsynced = false;
      }
      this.#error = undefined;
      this.#timer.succeeded();
    } catch (err) {
      // Entries not written go back in front; written ones (only the fsync failed) are not written twice.
      if (fd === undefined) this.#pending.putBack(batch);
      this.#error = err instanceof SessionStoreError ? err : ioError('append to', this.#file, err);
      throw this.#error;
    } finally {
      // Closed synchronously, like the write: an async close needs an event-loop turn to settle,
      // and until it does the next flush waits, so a producer that never yields (a loop of
      // awaited appends) saw its whole transcript buffered until close (docs/performance.md).
      if (fd !== undefined) closeSyncQuietly(fd);
    }
  }

  /**
   * Writes the batch; returns the open fd. A file replaced by a rewrite still in progress (another
   * process's repair or merge, which carries late appends over only after its rename) is written
   * to once that rewrite is done, so this writer never restores entries the rewrite carries over
   * (they would be there twice). Bytes that landed in the replaced file are checked the same way.
   */
  async #writeWhenNoRewrite(batch: Batch): Promise<number> {
    for (let waits = 0; ; waits++) {
      let fd: number;
      try {
        fd = this.#writeBatch(batch, waits < MAX_REWRITE_WAITS);
      } catch (err) {
        if (!(err instanceof RewriteInProgress)) throw err;
        this.#storeRewrite = true;
        await waitForRewrite(this.#file);
        continue;
      }
      if (this.#verify && waits < MAX_REWRITE_WAITS) {
        // Our bytes went into a file that was replaced meanwhile: once the rewrite is over, the
        // next pass finds which of them the new file lacks and writes those (nothing else).
        closeSyncQuietly(fd);
        await waitForRewrite(this.#file);
        batch = BatchBuffer.EMPTY;
        continue;
      }
      return fd;
    }
  }

  async #fsyncOnly(): Promise<void> {
    const { fd, stat } = openForAppendSync(this.#file);
    try {
      if (this.#verify) writeAllSync(fd, this.#prepare(fd, stat).first);
      await fdatasync(fd);
      this.#unsynced = false;
    } catch (err) {
      this.#verify = true;
      this.#error = err instanceof SessionStoreError ? err : ioError('fsync', this.#file, err);
      throw this.#error;
    } finally {
      await closeQuietly(fd);
    }
  }

  /**
   * Opens, seals a torn tail, writes the batch in one call, and checks where it landed; returns
   * the still-open fd. With `waitForRewrite`, a file being rewritten is left alone (throws
   * RewriteInProgress, the batch not taken).
   */
  #writeBatch(batch: Batch, waitForRewrite = false): number {
    const { fd, stat } = openForAppendSync(this.#file);
    try {
      const { first, size: before } = this.#prepare(fd, stat, waitForRewrite);
      const data = [...first, ...batch.segments.map((segment) => segment.body)];
      let length = 0;
      for (const part of data) length += part.length;
      try {
        writeAllSync(fd, data);
      } catch (err) {
        undoPartial(fd, before, err);
        throw err;
      }
      const after = fs.fstatSync(fd);
      // Replaced (renamed over, or deleted) between our open and now: where our bytes went is
      // settled by the next pass, which compares the new file with what we wrote.
      if (after.nlink === 0) this.#verify = this.#storeRewrite = true;
      else if (after.size !== before + length && rewriteGlued(fd, before, after.size, data.find((part) => part.length > 0) ?? EMPTY)) {
        this.#events.onWarning(
          `Another program wrote an unfinished line to ${this.#file} just before this store's entries; the entry glued to it was written again.`,
          'SESSIONLOG_UNGLUED',
        );
      }
      this.#unsynced = true;
      this.#lastEnd = { ino: stat.ino, size: after.size };
      for (const segment of batch.segments) this.#recent.add(segment.ids, segment.buffer, segment.ends);
      this.#events.onWritten(batch.count, length);
      return fd;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /**
   * What the file needs before the batch — its header if another program emptied it, a `\n`
   * sealing a torn last line, and our recent entries that an external rewrite dropped — and the
   * file's size those were judged at (where the write will start, unless another process appends first).
   */
  #prepare(fd: number, stat: fs.Stats, waitForRewrite = false): { first: Buffer[]; size: number } {
    const last = this.#lastEnd;
    if (!this.#verify && last !== undefined && last.ino === stat.ino && last.size === stat.size) return { first: [], size: stat.size };
    const replaced = this.#verify || (last !== undefined && this.#rewritten(fd, stat, last));
    if (replaced && waitForRewrite && isRewriteLocked(this.#file)) throw new RewriteInProgress();
    // The size seen at open can predate the carry-over of a rewrite that has finished since: it
    // appends the late appends before it releases its lock. Judged at that size, those entries
    // looked lost and were appended a second time (test/reliability/races.test.ts, race 2).
    const size = replaced ? fs.fstatSync(fd).size : stat.size;
    const parts: Buffer[] = [];
    if (size === 0) {
      this.#events.onWarning(
        `${this.#file} was emptied by another program; its header was written again before the new entries.`,
        'SESSIONLOG_EMPTIED',
      );
      parts.push(Buffer.from(this.#headerLine));
    } else if (!endsWithNewline(fd, size)) {
      // A torn last line (a crash, or an editor that saves without a final newline): never glue onto it.
      this.#events.onWarning(
        `${this.#file} did not end with a newline; it was sealed so the torn line stays separate.`,
        'SESSIONLOG_SEALED',
      );
      parts.push(NEWLINE);
    }
    if (replaced) {
      const missing = this.#recent.missingFrom(fd, size);
      if (missing.length > 0 && !this.#storeRewrite) {
        this.#events.onWarning(
          `${this.#file} was rewritten by another program and lost ${missing.length} entries this store had written; they were appended again.`,
          'SESSIONLOG_RESTORED',
        );
      }
      for (const item of missing) parts.push(item.line);
    }
    this.#verify = this.#storeRewrite = false;
    return { first: parts, size };
  }

  /** Whether the file is no longer the one we appended to: a new inode, shorter, or our last line gone from its place. */
  #rewritten(fd: number, stat: fs.Stats, last: { ino: number; size: number }): boolean {
    if (stat.ino !== last.ino || stat.size < last.size) return true;
    const line = this.#recent.last;
    if (line === undefined) return false;
    // Longer: another appender, or an in-place rewrite (truncate, then write). Our last line tells.
    const expected = line.line;
    const found = Buffer.alloc(expected.length);
    fs.readSync(fd, found, 0, expected.length, last.size - expected.length);
    return !found.equals(expected);
  }
}

const EMPTY = Buffer.alloc(0);

/** Thrown by a write that found the file replaced while another process is still rewriting it. */
class RewriteInProgress extends Error {}

/** How often a flush waits for a rewrite and looks again before it writes anyway. */
const MAX_REWRITE_WAITS = 50;
