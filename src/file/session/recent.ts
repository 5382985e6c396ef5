/**
 * The lines a writer wrote most recently, so that entries another program's rewrite dropped can
 * be put back. An editor that loaded the file before the agent appended, and then saved its stale
 * copy ("write anyway"), or a `git checkout` of an older version, silently removes acknowledged
 * entries; only the writer still knows them.
 */
import fs from 'node:fs';
import { decodeLine } from '../../format/codec.js';
import { LineSplitter } from '../../format/lines.js';

interface Written {
  readonly id: string;
  /** The line as written: a view into its batch's buffer. */
  readonly line: Buffer;
}

/** A batch buffer and how many kept lines are still in it. */
interface Slab {
  readonly buffer: Buffer;
  refs: number;
}

/** A kept line: its id, and where its bytes are in its batch's buffer. */
interface Item {
  readonly id: string;
  readonly slab: Slab;
  readonly start: number;
  readonly end: number;
}

const CHUNK = 256 * 1024;

/**
 * A bounded window of the newest lines written, by entry id. It keeps the writer's batch buffers
 * themselves, not copies: nothing is copied per flush and nothing is on the JS heap for the GC to
 * move (keeping strings, or copying every byte into a window, cost 10–15% of an append;
 * docs/performance.md). A buffer none of whose lines is kept any more goes back to the writer
 * through `release`, to be filled again.
 */
export class RecentLines {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #release: (buffer: Buffer) => void;
  #items: Item[] = [];
  #bytes = 0;

  constructor(maxEntries: number, maxBytes: number, release: (buffer: Buffer) => void = () => undefined) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#release = release;
  }

  /** The last line written, to check cheaply that it is still where it was written. */
  get last(): Written | undefined {
    const item = this.#items.at(-1);
    return item === undefined ? undefined : written(item);
  }

  /**
   * Records lines just written, taking `buffer` over (the caller must not write into it again
   * until it is released): the lines are `buffer`'s first bytes, back to back, `ends[i]` is where
   * line i ends. Lines without an id cannot be matched later and are not kept.
   */
  add(ids: readonly (string | undefined)[], buffer: Buffer, ends: readonly number[]): void {
    const slab: Slab = { buffer, refs: 0 };
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i] as number;
      const id = ids[i];
      if (id !== undefined && this.#maxEntries > 0) {
        this.#items.push({ id, slab, start, end });
        slab.refs++;
        this.#bytes += end - start;
      }
      start = end;
    }
    if (slab.refs === 0) this.#release(buffer);
    let drop = 0;
    while (this.#items.length - drop > this.#maxEntries || (this.#bytes > this.#maxBytes && this.#items.length - drop > 1)) {
      const item = this.#items[drop] as Item;
      this.#bytes -= item.end - item.start;
      if (--item.slab.refs === 0) this.#release(item.slab.buffer);
      drop++;
    }
    if (drop > 0) this.#items = this.#items.slice(drop);
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
    return this.#items.slice(newest + 1).map(written);
  }
}

function written(item: Item): Written {
  return { id: item.id, line: item.slab.buffer.subarray(item.start, item.end) };
}
