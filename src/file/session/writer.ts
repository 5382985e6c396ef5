/**
 * One writer per session: an in-memory buffer of encoded lines, flushed as one `write` of
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
import { ioError, SessionStoreError } from '../../core/errors.js';
import { isRewriteLocked, waitForRewrite } from '../fs/lock.js';
import { closeQuietly, closeSyncQuietly, fdatasync, openForAppendSync, writeAllSync } from '../fs/files.js';
import { RecentLines } from './recent.js';

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
  /** The batch buffer the lines were encoded into (handed to the recent-lines window once written). */
  readonly buffer: Buffer;
  /** The encoded lines, back to back: the first bytes of `buffer`. */
  readonly body: Buffer;
  /** Where each line ends in `body`. */
  readonly ends: number[];
  readonly ids: (string | undefined)[];
}

const NEWLINE = Buffer.from('\n');
/** Retry a failing background flush no more often than this, doubling from `intervalMs`. */
const MAX_RETRY_MS = 30_000;
/** How far back a writer can restore entries an external rewrite dropped. */
const RECENT_ENTRIES = 1000;
const RECENT_BYTES = 8 * 1024 * 1024;
/** First capacity of a batch buffer; it doubles when a line might not fit. */
const MIN_BATCH_BYTES = 64 * 1024;
/** Batch buffers the recent-lines window gave back, kept for the next batches. */
const MAX_SPARE_BUFFERS = 2;

/** Buffers and writes one session's entries. */
export class SessionWriter {
  readonly #file: string;
  readonly #headerLine: string;
  readonly #options: WriterOptions;
  readonly #events: WriterEvents;
  /**
   * The batch being filled: lines are encoded into it as they are enqueued, which measures them
   * in the same pass (a separate Buffer.byteLength per line cost 20% of an append). Once written,
   * the buffer is kept by the recent-lines window, which gives it back when it keeps none of its
   * lines any more; the next batches fill the buffers given back.
   */
  #buf: Buffer = EMPTY;
  #spare: Buffer[] = [];
  #ends: number[] = [];
  #lineIds: (string | undefined)[] = [];
  readonly #recent = new RecentLines(RECENT_ENTRIES, RECENT_BYTES, (buffer) => {
    if (this.#spare.length < MAX_SPARE_BUFFERS) this.#spare.push(buffer);
  });
  /** Set when an fsync failed: before the next write, check the file still holds what we wrote. */
  #verify = false;
  /**
   * Set when the file was replaced by a rewrite of this store's own kind (a repair or merge seen
   * holding its lock, or a rename over the file during our write): entries it did not carry over
   * are appended again as designed, which is no news for a warning.
   */
  #storeRewrite = false;
  /** Bytes of `#buf` in use. */
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

  /** The session file. */
  get file(): string {
    return this.#file;
  }

  /** Entries buffered and not yet handed to the OS. */
  get pending(): number {
    return this.#ends.length;
  }

  /** Buffers lines (JSON texts without their `\n`) with their entry ids, and flushes at a threshold. */
  enqueue(lines: readonly string[], ids: readonly (string | undefined)[]): void {
    if (this.#closed) throw new SessionStoreError('ERR_CLOSED', `The writer of ${this.#file} is closed.`);
    for (let i = 0; i < lines.length; i++) {
      this.#encode(lines[i] as string);
      this.#lineIds.push(ids[i]);
    }
    const { maxEntries, maxBytes } = this.#options;
    if (this.#ends.length >= maxEntries || this.#bytes >= maxBytes) this.#background();
    else this.#arm(this.#options.intervalMs);
  }

  /** Encodes one line (its JSON text, then `\n`) at the end of the batch buffer, growing it first if the line might not fit. */
  #encode(json: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes: a line that fits three times over fits. Only one that
    // might not is measured, so the buffer grows for the bytes it needs, not for that bound: 20
    // messages of 2.9 KB grew a session's first buffer to 128 KiB by the bound, and fit in its 64 KiB
    // when measured (1,000 sessions held 190 MB of buffers instead of 64 MB; docs/performance.md).
    let room = json.length * 3 + 1;
    if (this.#bytes + room > this.#buf.length) room = Buffer.byteLength(json) + 1;
    if (this.#bytes + room > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(MIN_BATCH_BYTES, 2 * (this.#bytes + room)));
      this.#buf.copy(next, 0, 0, this.#bytes);
      this.#buf = next;
    }
    this.#bytes += this.#buf.write(json, this.#bytes);
    this.#buf[this.#bytes++] = 0x0a;
    this.#ends.push(this.#bytes);
  }

  /**
   * Resolves when the buffer is back under `maxBufferedBytes` (backpressure for fast producers);
   * undefined when it is under already, so the common append allocates no promise here.
   * Never rejects: the entries are already buffered, and a failed flush stays sticky for the next
   * append / flush to report, so a caller never retries (and duplicates) entries that were kept.
   */
  waitForRoom(): Promise<void> | undefined {
    if (this.#bytes <= this.#options.maxBufferedBytes) return undefined;
    return this.flush(this.#options.durable).catch(() => undefined);
  }

  /**
   * Writes everything buffered (one write), and with `durable` fsyncs the file. Rejects with the
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
    this.#disarm();
    if (this.#ends.length === 0) return;
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

  /**
   * The buffered entries as a session file of their own (the header line, then the lines), and
   * the buffer dropped: for entries whose session file another program deleted or moved.
   */
  takeAsFile(): Buffer {
    const data = Buffer.concat([Buffer.from(this.#headerLine), this.#buf.subarray(0, this.#bytes)]);
    this.discard();
    return data;
  }

  /** Drops the buffer without writing (the session was deleted). */
  discard(): void {
    this.#disarm();
    this.#buf = EMPTY;
    this.#spare = [];
    this.#ends = [];
    this.#lineIds = [];
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

  /** The buffered lines with their buffer; the next line goes into a spare buffer or a new one. */
  #takeBatch(): Batch {
    const batch: Batch = { buffer: this.#buf, body: this.#buf.subarray(0, this.#bytes), ends: this.#ends, ids: this.#lineIds };
    this.#buf = this.#spare.pop() ?? EMPTY;
    this.#ends = [];
    this.#lineIds = [];
    this.#bytes = 0;
    return batch;
  }

  /** Puts a failed batch's lines back in front of anything appended since. */
  #restore(batch: Batch): void {
    const since = this.#buf.subarray(0, this.#bytes);
    const shift = batch.body.length;
    this.#buf = Buffer.concat([batch.body, since]);
    this.#ends = batch.ends.concat(this.#ends.map((end) => end + shift));
    this.#lineIds = batch.ids.concat(this.#lineIds);
    this.#bytes += shift;
  }

  async #flushNow(durable: boolean): Promise<void> {
    if (this.#ends.length === 0) {
      if (durable && this.#unsynced) await this.#fsyncOnly();
      this.#error = undefined;
      return;
    }
    const batch = this.#takeBatch();
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
      this.#retryMs = this.#options.intervalMs;
    } catch (err) {
      // Entries not written go back in front; written ones (only the fsync failed) are not written twice.
      if (fd === undefined) this.#restore(batch);
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
        batch = { buffer: EMPTY, body: EMPTY, ends: [], ids: [] };
        continue;
      }
      return fd;
    }
  }

  async #fsyncOnly(): Promise<void> {
    const { fd, stat } = openForAppendSync(this.#file);
    try {
      const restored = this.#verify ? this.#prepare(fd, stat, EMPTY) : EMPTY;
      if (restored.length > 0) writeAllSync(fd, restored);
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
      const data = this.#prepare(fd, stat, batch.body, waitForRewrite);
      const before = stat.size;
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
      else if (after.size !== before + data.length) this.#unglue(fd, before, after.size, data);
      this.#unsynced = true;
      this.#lastEnd = { ino: stat.ino, size: after.size };
      if (batch.ends.length > 0) this.#recent.add(batch.ids, batch.buffer, batch.ends);
      this.#events.onWritten(batch.ends.length, data.length);
      return fd;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /**
   * The bytes to write: the batch, after whatever the file needs first — its header if another
   * program emptied it, a `\n` sealing a torn last line, and our recent entries that an external
   * rewrite dropped.
   */
  #prepare(fd: number, stat: fs.Stats, body: Buffer, waitForRewrite = false): Buffer {
    const last = this.#lastEnd;
    if (!this.#verify && last !== undefined && last.ino === stat.ino && last.size === stat.size) return body;
    const replaced = this.#verify || (last !== undefined && this.#rewritten(fd, stat, last));
    if (replaced && waitForRewrite && isRewriteLocked(this.#file)) throw new RewriteInProgress();
    const parts: Buffer[] = [];
    if (stat.size === 0) {
      this.#events.onWarning(
        `${this.#file} was emptied by another program; its header was written again before the new entries.`,
        'SESSIONLOG_EMPTIED',
      );
      parts.push(Buffer.from(this.#headerLine));
    } else if (!endsWithNewline(fd, stat.size)) {
      // A torn last line (a crash, or an editor that saves without a final newline): never glue onto it.
      this.#events.onWarning(
        `${this.#file} did not end with a newline; it was sealed so the torn line stays separate.`,
        'SESSIONLOG_SEALED',
      );
      parts.push(NEWLINE);
    }
    if (replaced) {
      const missing = this.#recent.missingFrom(fd, stat.size);
      if (missing.length > 0 && !this.#storeRewrite) {
        this.#events.onWarning(
          `${this.#file} was rewritten by another program and lost ${missing.length} entries this store had written; they were appended again.`,
          'SESSIONLOG_RESTORED',
        );
      }
      for (const item of missing) parts.push(item.line);
    }
    this.#verify = this.#storeRewrite = false;
    if (parts.length === 0) return body;
    parts.push(body);
    return Buffer.concat(parts);
  }

  /**
   * Another process wrote between our look at the file's end and our write: when that was a torn
   * fragment (a writer killed mid-line), our first line is glued onto it and unreadable. Our line
   * is then written again on a line of its own; the glued copy stays, reported by the reader as a
   * bad line (it is not ours to delete). Lines after the first start after our own newlines.
   */
  #unglue(fd: number, before: number, size: number, data: Buffer): void {
    if (data.length === 0 || data[0] === 0x0a) return;
    const first = data.subarray(0, data.indexOf(0x0a) + 1);
    for (let attempt = 0; attempt < MAX_UNGLUE; attempt++) {
      const from = Math.max(0, before - 1);
      const region = Buffer.allocUnsafe(size - from);
      const n = fs.readSync(fd, region, 0, region.length, from);
      const at = region.subarray(0, n).indexOf(first, before - from);
      // Not found: the file was rewritten meanwhile, which the restore path handles.
      if (at <= 0 || region[at - 1] === 0x0a) return;
      this.#events.onWarning(
        `Another program wrote an unfinished line to ${this.#file} just before this store's entries; the entry glued to it was written again.`,
        'SESSIONLOG_UNGLUED',
      );
      before = fs.fstatSync(fd).size;
      writeAllSync(fd, Buffer.concat([NEWLINE, first]));
      size = fs.fstatSync(fd).size;
      if (size === before + first.length + 1) return;
      before += 1;
    }
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

function endsWithNewline(fd: number, size: number): boolean {
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, size - 1);
  return byte[0] === 0x0a;
}

const EMPTY = Buffer.alloc(0);

/** Thrown by a write that found the file replaced while another process is still rewriting it. */
class RewriteInProgress extends Error {}

/** How often a flush waits for a rewrite and looks again before it writes anyway. */
const MAX_REWRITE_WAITS = 3;
/** How often a batch glued onto another writer's torn fragment is written again. */
const MAX_UNGLUE = 3;

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
