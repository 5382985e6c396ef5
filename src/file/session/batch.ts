/**
 * A writer's pending lines: encoded as they are enqueued, back to back into a buffer, which
 * measures them in the same pass (a separate Buffer.byteLength per line cost 20% of an append).
 * A line that does not fit starts a new buffer rather than a bigger copy of this one: growing by
 * copying cost 75–109 ms of the 1,000-session bench (the copies landed in fresh pages,
 * docs/performance.md). A taken batch's buffers go to the recent-lines window once written, which
 * gives each back when it keeps none of its lines any more; the next batches fill them again.
 */

/** Lines encoded back to back at the start of one buffer. */
export interface Segment {
  /** The buffer the lines were encoded into (handed to the recent-lines window once written). */
  readonly buffer: Buffer;
  /** The encoded lines, back to back: the first bytes of `buffer`. */
  readonly body: Buffer;
  /** Where each line ends in `body`. */
  readonly ends: number[];
  readonly ids: (string | undefined)[];
}

/** Lines taken to be written, in order: written with one `writev`. */
export interface Batch {
  readonly segments: readonly Segment[];
  /** Lines in all segments. */
  readonly count: number;
  /** Bytes in all segments. */
  readonly bytes: number;
}

const EMPTY = Buffer.alloc(0);
/** Capacity of a buffer, unless one line needs more. */
const MIN_BATCH_BYTES = 64 * 1024;
/** A batch using at most 1/this of its last buffer gets a copy of its own, and the buffer is kept for the next batch. */
const SMALL_BATCH_SHARE = 4;
/** Batch buffers the recent-lines window gave back, kept for the next batches. */
const MAX_SPARE_BUFFERS = 2;

/** The lines buffered and not yet taken. */
export class BatchBuffer {
  /** Full buffers, in order, before the one being filled. */
  #sealed: Segment[] = [];
  #sealedCount = 0;
  #sealedBytes = 0;
  #buf: Buffer = EMPTY;
  #spare: Buffer[] = [];
  #ends: number[] = [];
  #ids: (string | undefined)[] = [];
  /** Bytes of `#buf` in use. */
  #bytes = 0;

  /** An empty batch (a pass that writes only what a check found missing). */
  static readonly EMPTY: Batch = { segments: [], count: 0, bytes: 0 };

  /** Lines buffered. */
  get count(): number {
    return this.#sealedCount + this.#ends.length;
  }

  /** Bytes buffered. */
  get bytes(): number {
    return this.#sealedBytes + this.#bytes;
  }

  /** The buffered lines, back to back (a copy when they span buffers). */
  get body(): Buffer {
    const current = this.#buf.subarray(0, this.#bytes);
    return this.#sealed.length === 0 ? current : Buffer.concat([...this.#sealed.map((s) => s.body), current]);
  }

  /** Encodes one line (its JSON text, then `\n`), in a new buffer if it might not fit in this one. */
  push(json: string, id: string | undefined): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes: a line that fits three times over fits. Only one that
    // might not is measured, so a buffer is made for the bytes a line needs, not for that bound.
    let room = json.length * 3 + 1;
    if (this.#bytes + room > this.#buf.length) room = Buffer.byteLength(json) + 1;
    if (this.#bytes + room > this.#buf.length) this.#nextBuffer(room);
    this.#bytes += this.#buf.write(json, this.#bytes);
    this.#buf[this.#bytes++] = 0x0a;
    this.#ends.push(this.#bytes);
    this.#ids.push(id);
  }

  /**
   * The buffered lines with their buffers; the next line goes into a spare buffer or a new one. A
   * batch that fills little of its last buffer (a flush per turn of a chat) gets a copy of its own
   * instead, and the buffer is filled again: handed to the recent-lines window whole, each such
   * flush held on to 64 KiB until 1,000 entries later (one session flushing 1,000 single entries
   * held 62.5 MB for 250 KB of lines; docs/performance.md).
   */
  take(): Batch {
    // Nothing in the buffer being filled counts as small: it is kept.
    const small = this.#bytes * SMALL_BATCH_SHARE <= this.#buf.length;
    const filled = this.#buf;
    this.#seal(small);
    const batch: Batch = { segments: this.#sealed, count: this.#sealedCount, bytes: this.#sealedBytes };
    this.#sealed = [];
    this.#sealedCount = this.#sealedBytes = 0;
    this.#buf = small ? filled : (this.#spare.pop() ?? EMPTY);
    return batch;
  }

  /** Puts a failed batch's lines back in front of anything buffered since. */
  putBack(batch: Batch): void {
    this.#sealed = [...batch.segments, ...this.#sealed];
    this.#sealedCount += batch.count;
    this.#sealedBytes += batch.bytes;
  }

  /** A written batch's buffer, given back by the recent-lines window: filled again by a later batch. */
  giveBack(buffer: Buffer): void {
    // A small batch's own copy is too small to fill again.
    if (this.#spare.length < MAX_SPARE_BUFFERS && buffer.length >= MIN_BATCH_BYTES) this.#spare.push(buffer);
  }

  /** Lets go of the buffers when nothing is buffered (the session went quiet); the next line allocates again. */
  trim(): void {
    if (this.count === 0) this.#buf = EMPTY;
    this.#spare = [];
  }

  /** Drops everything. */
  clear(): void {
    this.#buf = EMPTY;
    this.#spare = [];
    this.#sealed = [];
    this.#sealedCount = this.#sealedBytes = 0;
    this.#ends = [];
    this.#ids = [];
    this.#bytes = 0;
  }

  /** Moves the lines of the buffer being filled to the sealed segments; with `copy`, a copy of them, and the buffer stays free to fill. */
  #seal(copy = false): void {
    if (this.#bytes === 0) return;
    const body = this.#buf.subarray(0, this.#bytes);
    const own = copy ? Buffer.from(body) : undefined;
    this.#sealed.push({ buffer: own ?? this.#buf, body: own ?? body, ends: this.#ends, ids: this.#ids });
    this.#sealedCount += this.#ends.length;
    this.#sealedBytes += this.#bytes;
    this.#ends = [];
    this.#ids = [];
    this.#bytes = 0;
  }

  /** Seals the buffer being filled and makes room for `room` bytes in another. */
  #nextBuffer(room: number): void {
    this.#seal();
    const spare = this.#spare.at(-1);
    if (spare !== undefined && spare.length >= room) this.#buf = this.#spare.pop() as Buffer;
    else this.#buf = Buffer.allocUnsafe(Math.max(MIN_BATCH_BYTES, room));
  }
}
