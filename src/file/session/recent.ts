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
  readonly #budget: WindowBudget | undefined;
  #items: Item[] = [];
  #bytes = 0;
  /** Bytes of the buffers those lines keep alive (a batch's buffer can be up to 4× its lines). */
  #held = 0;

  /** `budget`: the cap this window shares with the other windows of its store. */
  constructor(maxEntries: number, maxBytes: number, release: (buffer: Buffer) => void = () => undefined, budget?: WindowBudget) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#release = release;
    this.#budget = budget;
  }

  /** Bytes of the lines kept. */
  get bytes(): number {
    return this.#bytes;
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
    const before = this.#held;
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
    else this.#held += buffer.length;
    let drop = 0;
    while (this.#items.length - drop > this.#maxEntries || (this.#bytes > this.#maxBytes && this.#items.length - drop > 1)) {
      const item = this.#items[drop] as Item;
      this.#bytes -= item.end - item.start;
      if (--item.slab.refs === 0) {
        this.#held -= item.slab.buffer.length;
        this.#release(item.slab.buffer);
      }
      drop++;
    }
    if (drop > 0) this.#items = this.#items.slice(drop);
    this.#budget?.grew(this, this.#held - before);
  }

  /**
   * Drops every line (the budget's eviction, or the writer going away); returns the buffer bytes freed.
   * The buffers are not given back: kept as a writer's spares, they would stay with a session
   * nobody writes to any more.
   */
  clear(): number {
    const freed = this.#held;
    this.#items = [];
    this.#bytes = this.#held = 0;
    return freed;
  }

  /** Drops every line and leaves the budget: the writer is done. */
  dispose(): void {
    this.#budget?.leave(this, this.clear());
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

/**
 * The cap the recent-lines windows of one store share: each window is capped on its own (1,000
 * lines / 8 MB), but a store that has written to thousands of sessions since it opened would keep
 * all their windows. Over the cap, the windows written to least recently are dropped whole: their
 * sessions are then like sessions not written since the store opened (nothing to put back).
 */
export class WindowBudget {
  readonly #maxBytes: number;
  #bytes = 0;
  /** Least recently written first (a Set keeps insertion order). */
  readonly #windows = new Set<RecentLines>();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the buffers all windows keep alive. */
  get bytes(): number {
    return this.#bytes;
  }

  /** `window` was just written to and its buffers changed by `delta` bytes; drops the least recent others while over the cap. */
  grew(window: RecentLines, delta: number): void {
    this.#bytes += delta;
    this.#windows.delete(window);
    this.#windows.add(window);
    for (const oldest of this.#windows) {
      if (this.#bytes <= this.#maxBytes || oldest === window) break;
      this.#windows.delete(oldest);
      this.#bytes -= oldest.clear();
    }
  }

  /** `window` is gone, after freeing `freed` bytes. */
  leave(window: RecentLines, freed: number): void {
    if (this.#windows.delete(window)) this.#bytes -= freed;
  }
}

function written(item: Item): Written {
  return { id: item.id, line: item.slab.buffer.subarray(item.start, item.end) };
}
