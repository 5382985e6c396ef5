/**
 * Reads a session file's lines by bytes, forwards from an offset or backwards from the end, in
 * bounded memory. Knows files and bytes, not what the lines mean.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { LineSplitter, type RawLine } from '../../format/lines.js';
import { ioError } from '../../core/errors.js';
import { closeQuietly, closeSyncQuietly, openForRead, openForReadSync } from '../fs/files.js';

const read = promisify(fs.read);

/** Forward reads: large enough that syscalls are noise next to JSON.parse. */
const FORWARD_CHUNK = 256 * 1024;
/** Smallest forward buffer, for small files. */
const MIN_FORWARD_CHUNK = 8 * 1024;
/** Backward reads: a tail of 50 agent messages usually fits in one or two chunks. */
const BACKWARD_CHUNK = 64 * 1024;

/** A line with its number (from 1) when known, and whether it is the newline-less last fragment. */
export interface ScannedLine extends RawLine {
  readonly line: number | undefined;
  readonly torn: boolean;
}

const EMPTY_FIRST_LINE: ScannedLine = { bytes: Buffer.alloc(0), offset: 0, length: 0, oversize: false, line: 1, torn: true };

/** Options of {@link scanForward}. */
export interface ForwardOptions {
  /** Byte offset to start at; must be the start of a line. */
  readonly offset?: number;
  /** Number of the line at `offset`. */
  readonly line?: number;
  readonly maxLineBytes: number;
}

/**
 * Yields every line from `offset` to the end of the file as it is when each chunk is read. The
 * last fragment without `\n` is yielded with `torn: true`. The yielded bytes are only valid until
 * the next iteration.
 */
export async function* scanForward(file: string, options: ForwardOptions): AsyncGenerator<ScannedLine> {
  for await (const lines of scanForwardChunks(file, options)) {
    for (const line of lines) yield line;
  }
}

/**
 * As {@link scanForward}, one array per chunk read: a reader that handles a chunk's lines in a
 * plain loop pays one await per 256 KiB instead of one per line. The next chunk is read while
 * the caller handles this one. The lines' bytes are only valid until the next iteration.
 */
export async function* scanForwardChunks(file: string, options: ForwardOptions): AsyncGenerator<ScannedLine[]> {
  const { fd, stat } = await openForRead(file);
  let inFlight: Promise<number> | undefined;
  try {
    let position = options.offset ?? 0;
    let lineNo = options.line ?? 1;
    const splitter = new LineSplitter(position, options.maxLineBytes);
    // Sized to what there is to read: indexing 10,000 small sessions must not churn 256 KiB each.
    // A file that grows meanwhile is simply read in more chunks.
    const size = Math.min(FORWARD_CHUNK, Math.max(MIN_FORWARD_CHUNK, stat.size - position + 1));
    let current = Buffer.allocUnsafe(size);
    // A second buffer to read ahead into, only when there is more than one chunk to read.
    let next = stat.size - position >= size ? Buffer.allocUnsafe(size) : undefined;
    const readAt = (buffer: Buffer, at: number): Promise<number> =>
      read(fd, buffer, 0, buffer.length, at).then(
        ({ bytesRead }) => bytesRead,
        (err: unknown) => {
          throw ioError('read', file, err);
        },
      );
    let pending = readAt(current, position);
    inFlight = pending;
    for (;;) {
      const bytesRead = await pending;
      inFlight = undefined;
      if (bytesRead === 0) break;
      const data = current.subarray(0, bytesRead);
      position += bytesRead;
      if (next !== undefined) inFlight = pending = readAt(next, position);
      const lines: ScannedLine[] = [];
      for (const raw of splitter.push(data)) {
        // Spelled out, not spread: this runs once per line of every forward read.
        lines.push({ bytes: raw.bytes, offset: raw.offset, length: raw.length, oversize: raw.oversize, line: lineNo++, torn: false });
      }
      if (lines.length > 0) yield lines;
      if (next !== undefined) [current, next] = [next, current];
      else inFlight = pending = readAt(current, position);
    }
    const tail = splitter.end();
    if (tail !== undefined) yield [{ ...tail, line: lineNo, torn: true }];
    // An empty file still has a line 1: a missing header, which readers report.
    else if (position === 0) yield [EMPTY_FIRST_LINE];
  } finally {
    // Never close the fd under a read still in flight (the number could be reused by then).
    await inFlight?.catch(() => undefined);
    await closeQuietly(fd);
  }
}

/**
 * Yields the file's lines from last to first, reading backwards in chunks. Line numbers are not
 * known this way (`line` is undefined). Lines longer than `maxLineBytes` are yielded as oversize
 * without their bytes.
 */
export async function* scanBackward(file: string, maxLineBytes: number): AsyncGenerator<ScannedLine> {
  // Synchronous syscalls: a tail is a few 64 KiB preads of a file that was usually just written,
  // and each thread-pool round trip cost as much as parsing the lines on a loaded machine
  // (docs/performance.md). One event-loop turn first, so a loop polling a tail cannot starve
  // timers, signals and I/O.
  await new Promise((resolve) => setImmediate(resolve));
  const { fd, stat } = openForReadSync(file);
  try {
    let position = stat.size;
    // Pieces of the line being assembled, last piece first; they end at `lineEnd`.
    let pieces: Buffer[] = [];
    let pieceBytes = 0;
    let oversize = false;
    let lineEnd = stat.size;
    let torn = true; // until the first newline is seen, the bytes at the end are a torn tail
    const buffer = Buffer.allocUnsafe(BACKWARD_CHUNK);

    const take = (start: number): ScannedLine => {
      const length = lineEnd - start;
      const bytes = oversize ? Buffer.alloc(0) : Buffer.concat(pieces.reverse(), pieceBytes);
      const scanned: ScannedLine = { bytes, offset: start, length, oversize, line: undefined, torn };
      pieces = [];
      pieceBytes = 0;
      oversize = false;
      torn = false;
      return scanned;
    };
    const keep = (piece: Buffer): void => {
      if (piece.length === 0) return;
      if (!oversize && pieceBytes + piece.length > maxLineBytes) {
        oversize = true;
        pieces = [];
      }
      if (!oversize) pieces.push(Buffer.from(piece));
      pieceBytes += piece.length;
    };

    while (position > 0) {
      const size = Math.min(BACKWARD_CHUNK, position);
      position -= size;
      let bytesRead: number;
      try {
        bytesRead = fs.readSync(fd, buffer, 0, size, position);
      } catch (err) {
        throw ioError('read', file, err);
      }
      const chunk = buffer.subarray(0, bytesRead);
      let end = chunk.length;
      for (;;) {
        const nl = chunk.lastIndexOf(0x0a, end - 1);
        if (nl === -1 || end === 0) break;
        keep(chunk.subarray(nl + 1, end));
        const start = position + nl + 1;
        // The newline that ends the file closes no line of its own.
        if (!(torn && start === stat.size)) yield take(start);
        else torn = false;
        lineEnd = position + nl;
        end = nl;
      }
      keep(chunk.subarray(0, end));
    }
    if (lineEnd > 0 || pieceBytes > 0) yield take(0);
    else yield stat.size === 0 ? EMPTY_FIRST_LINE : { ...EMPTY_FIRST_LINE, torn: false };
  } finally {
    closeSyncQuietly(fd);
  }
}

/** The first line of a file (the header), or undefined for an empty file. */
export async function readFirstLine(file: string, maxLineBytes: number): Promise<ScannedLine | undefined> {
  for await (const scanned of scanForward(file, { maxLineBytes })) {
    // Copy: the scanner reuses its buffer once iteration moves on.
    return { ...scanned, bytes: Buffer.from(scanned.bytes) };
  }
  return undefined;
}
