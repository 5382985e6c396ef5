/**
 * Splits a byte stream into lines on 0x0A. Pure: it sees chunks, never files.
 * Splitting bytes (not strings) keeps offsets exact and is safe in UTF-8, where 0x0A never
 * occurs inside a multi-byte character.
 */

/** One complete line (without its `\n`), with the byte offset of its first byte. */
export interface RawLine {
  readonly bytes: Buffer;
  readonly offset: number;
  /** The line was longer than the cap: `bytes` is empty and `length` says how long it was. */
  readonly oversize: boolean;
  /** Length in bytes, without the `\n`. */
  readonly length: number;
}

const NEWLINE = 0x0a;

/**
 * Incremental splitter. Lines longer than `maxLineBytes` are not kept in memory: they are
 * reported as oversize with their length, so a 100 MB line costs no more memory than a small one.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #lineStart: number;
  #oversize = false;

  constructor(startOffset = 0, maxLineBytes = Number.MAX_SAFE_INTEGER) {
    this.#lineStart = startOffset;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Feeds the next chunk (contiguous with the previous one) and returns the lines it completes. */
  push(chunk: Buffer): RawLine[] {
    const lines: RawLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      lines.push(this.#finish(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start));
    return lines;
  }

  /** The bytes after the last newline, if any: a torn tail when the stream has ended. */
  end(): RawLine | undefined {
    if (this.#pendingBytes === 0 && !this.#oversize) return undefined;
    const line = this.#make();
    this.#reset(line.offset + line.length);
    return line;
  }

  #keep(piece: Buffer): void {
    if (this.#oversize) {
      this.#pendingBytes += piece.length;
      return;
    }
    if (this.#pendingBytes + piece.length > this.#maxLineBytes) {
      this.#oversize = true;
      this.#pending = [];
    } else {
      // Copy: the caller reuses its read buffer.
      this.#pending.push(Buffer.from(piece));
    }
    this.#pendingBytes += piece.length;
  }

  #finish(last: Buffer): RawLine {
    let line: RawLine;
    if (this.#pendingBytes === 0 && !this.#oversize) {
      const oversize = last.length > this.#maxLineBytes;
      line = {
        bytes: oversize ? Buffer.alloc(0) : last,
        offset: this.#lineStart,
        oversize,
        length: last.length,
      };
    } else {
      this.#keep(last);
      line = this.#make();
    }
    this.#reset(line.offset + line.length + 1);
    return line;
  }

  #make(): RawLine {
    return {
      bytes: this.#oversize ? Buffer.alloc(0) : Buffer.concat(this.#pending, this.#pendingBytes),
      offset: this.#lineStart,
      oversize: this.#oversize,
      length: this.#pendingBytes,
    };
  }

  #reset(nextStart: number): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#oversize = false;
    this.#lineStart = nextStart;
  }
}
