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
  /** The line as written (a view into its batch's buffer: off the JS heap, so never copied by the GC). */
  readonly line: Buffer;
}

const CHUNK = 256 * 1024;

/** A bounded window of the newest lines written, by entry id. */
export class RecentLines {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #items: Written[] = [];
  #bytes = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  /** The last line written, to check cheaply that it is still where it was written. */
  get last(): Written | undefined {
    return this.#items.at(-1);
  }

  /**
   * Records lines just written: `body` holds them back to back, `ends[i]` is where line i ends.
   * Lines without an id cannot be matched later and are skipped.
   */
  add(ids: readonly (string | undefined)[], body: Buffer, ends: readonly number[]): void {
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i] as number;
      const id = ids[i];
      if (id !== undefined) {
        this.#items.push({ id, line: body.subarray(start, end) });
        this.#bytes += end - start;
      }
      start = end;
    }
    let drop = 0;
    while (this.#items.length - drop > this.#maxEntries || (this.#bytes > this.#maxBytes && this.#items.length - drop > 1)) {
      this.#bytes -= (this.#items[drop] as Written).line.length;
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
    return this.#items.slice(newest + 1);
  }
}
