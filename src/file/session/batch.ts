/**
 * A writer's pending lines: encoded as they are enqueued into one growing buffer, which measures
 * them in the same pass (a separate Buffer.byteLength per line cost 20% of an append). A taken
 * batch's buffer goes to the recent-lines window once written, which gives it back when it keeps
 * none of its lines any more; the next batches fill the buffers given back.
 */

/** Lines taken to be written. */
export interface Batch {
  /** The buffer the lines were encoded into (handed to the recent-lines window once written). */
  readonly buffer: Buffer;
  /** The encoded lines, back to back: the first bytes of `buffer`. */
  readonly body: Buffer;
  /** Where each line ends in `body`. */
  readonly ends: number[];
  readonly ids: (string | undefined)[];
}

const EMPTY = Buffer.alloc(0);
/** First capacity of a batch buffer; it doubles when a line might not fit. */
const MIN_BATCH_BYTES = 64 * 1024;
/** A batch using at most 1/this of its buffer is copied out, and the buffer kept for the next batch. */
const SMALL_BATCH_SHARE = 4;
/** Batch buffers the recent-lines window gave back, kept for the next batches. */
const MAX_SPARE_BUFFERS = 2;

/** The lines buffered and not yet taken. */
export class BatchBuffer {
  #buf: Buffer = EMPTY;
  #spare: Buffer[] = [];
  #ends: number[] = [];
  #ids: (string | undefined)[] = [];
  /** Bytes of `#buf` in use. */
  #bytes = 0;

  /** An empty batch (a pass that writes only what a check found missing). */
  static readonly EMPTY: Batch = { buffer: EMPTY, body: EMPTY, ends: [], ids: [] };

  /** Lines buffered. */
  get count(): number {
    return this.#ends.length;
  }

  /** Bytes buffered. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The buffered lines, back to back. */
  get body(): Buffer {
    return this.#buf.subarray(0, this.#bytes);
  }

  /** Encodes one line (its JSON text, then `\n`), growing the buffer first if the line might not fit. */
  push(json: string, id: string | undefined): void {
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
    this.#ids.push(id);
  }

  /**
   * The buffered lines with their buffer; the next line goes into a spare buffer or a new one. A
   * batch that fills little of its buffer (a flush per turn of a chat) gets a copy of its own
   * instead, and the buffer is filled again: handed to the recent-lines window whole, each such
   * flush held on to 64 KiB until 1,000 entries later (one session flushing 1,000 single entries
   * held 62.5 MB for 250 KB of lines; docs/performance.md).
   */
  take(): Batch {
    const body = this.#buf.subarray(0, this.#bytes);
    const copy = this.#bytes * SMALL_BATCH_SHARE <= this.#buf.length ? Buffer.from(body) : undefined;
    const batch: Batch = { buffer: copy ?? this.#buf, body: copy ?? body, ends: this.#ends, ids: this.#ids };
    if (copy === undefined) this.#buf = this.#spare.pop() ?? EMPTY;
    this.#ends = [];
    this.#ids = [];
    this.#bytes = 0;
    return batch;
  }

  /** Puts a failed batch's lines back in front of anything buffered since. */
  putBack(batch: Batch): void {
    const since = this.#buf.subarray(0, this.#bytes);
    const shift = batch.body.length;
    this.#buf = Buffer.concat([batch.body, since]);
    this.#ends = batch.ends.concat(this.#ends.map((end) => end + shift));
    this.#ids = batch.ids.concat(this.#ids);
    this.#bytes += shift;
  }

  /** A written batch's buffer, given back by the recent-lines window: filled again by a later batch. */
  giveBack(buffer: Buffer): void {
    // A small batch's own copy is too small to fill again.
    if (this.#spare.length < MAX_SPARE_BUFFERS && buffer.length >= MIN_BATCH_BYTES) this.#spare.push(buffer);
  }

  /** Lets go of the buffers when nothing is buffered (the session went quiet); the next line allocates again. */
  trim(): void {
    if (this.#bytes === 0) this.#buf = EMPTY;
    this.#spare = [];
  }

  /** Drops everything. */
  clear(): void {
    this.#buf = EMPTY;
    this.#spare = [];
    this.#ends = [];
    this.#ids = [];
    this.#bytes = 0;
  }
}
