/**
 * The lines a writer wrote most recently, so that entries another program's rewrite dropped can
 * be put back. An editor that loaded the file before the agent appended, and then saved its stale
 * copy ("write anyway"), or a `git checkout` of an older version, silently removes acknowledged
 * entries; only the writer still knows them.
 */
import fs from 'node:fs';
import { decodeLine } from '../format/codec.js';
import { LineSplitter } from '../format/lines.js';

interface Written {
  readonly id: string;
  /** The line as written: a view into the window, valid until the next `add`. */
  readonly line: Buffer;
}

/** A kept line: its id and where its bytes are, as absolute positions in the stream of bytes added. */
interface Item {
  readonly id: string;
  readonly start: number;
  readonly end: number;
}

const CHUNK = 256 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * A bounded window of the newest lines written, by entry id. The bytes are copied into one
 * window buffer that is compacted in place and grows only to about twice what it keeps: no
 * allocation per flush, and nothing on the JS heap for the GC to copy (keeping the lines as
 * strings, or a buffer per batch, cost about 10% of an append; docs/performance.md).
 */
export class RecentLines {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #items: Item[] = [];
  #bytes = 0;
  #window: Buffer = EMPTY;
  /** Absolute position of `#window[0]`. */
  #base = 0;
  /** Absolute position after the last byte added. */
  #end = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  /** The last line written, to check cheaply that it is still where it was written. */
  get last(): Written | undefined {
    const item = this.#items.at(-1);
    return item === undefined ? undefined : this.#written(item);
  }

  /**
   * Records lines just written (copying them): `body` holds them back to back, `ends[i]` is
   * where line i ends. Lines without an id cannot be matched later and are skipped.
   */
  add(ids: readonly (string | undefined)[], body: Buffer, ends: readonly number[]): void {
    this.#reserve(body.length);
    body.copy(this.#window, this.#end - this.#base);
    const at = this.#end;
    this.#end += body.length;
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i] as number;
      const id = ids[i];
      if (id !== undefined) {
        this.#items.push({ id, start: at + start, end: at + end });
        this.#bytes += end - start;
      }
      start = end;
    }
    let drop = 0;
    while (this.#items.length - drop > this.#maxEntries || (this.#bytes > this.#maxBytes && this.#items.length - drop > 1)) {
      const item = this.#items[drop] as Item;
      this.#bytes -= item.end - item.start;
      drop++;
    }
    if (drop > 0) this.#items = this.#items.slice(drop);
  }

  /** Makes room for `n` more bytes after `#end`: moves the kept bytes to the front, growing the window if needed. */
  #reserve(n: number): void {
    if (this.#end - this.#base + n <= this.#window.length) return;
    const from = this.#items[0]?.start ?? this.#end;
    const kept = this.#end - from;
    const target = this.#window.length >= 2 * (kept + n) ? this.#window : Buffer.allocUnsafe(2 * (kept + n));
    // Buffer#copy is a memmove: the regions may overlap when the window is compacted in place.
    this.#window.copy(target, 0, from - this.#base, this.#end - this.#base);
    this.#window = target;
    this.#base = from;
  }

  #written(item: Item): Written {
    return { id: item.id, line: this.#window.subarray(item.start - this.#base, item.end - this.#base) };
  }

  /**
   * The recent lines the file (open as `fd`, `size` bytes) no longer holds, after the newest one
   * it still holds. Lines missing before a surviving one are left out on purpose: that is a line
   * somebody deleted by hand, not a stale copy written back over the tail.
   */
  missingFrom(fd: number, size: number): Written[] {
    if (this.#items.length === 0) return [];
    const wanted = new Map(this.#items.map((item, index) => [item.id, index]));
    let newest = -1;
    const splitter = new LineSplitter(0, Math.max(this.#maxBytes, 1024 * 1024));
    const buffer = Buffer.allocUnsafe(CHUNK);
    const see = (bytes: Buffer): void => {
      // Cheap filter first: only lines that can hold one of our ids are parsed.
      if (bytes.indexOf('"id"') === -1) return;
      const decoded = decodeLine(bytes);
      const id = decoded.ok ? decoded.value['id'] : undefined;
      const index = typeof id === 'string' ? wanted.get(id) : undefined;
      if (index !== undefined && index > newest) newest = index;
    };
    for (let position = 0; position < size; ) {
      const n = fs.readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
      if (n === 0) break;
      position += n;
      for (const raw of splitter.push(buffer.subarray(0, n))) see(raw.bytes);
    }
    const tail = splitter.end();
    if (tail !== undefined) see(tail.bytes);
    return this.#items.slice(newest + 1).map((item) => this.#written(item));
  }
}
