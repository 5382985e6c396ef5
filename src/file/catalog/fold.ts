/**
 * One session's index record, and how it is brought up to date from the file: incrementally when
 * the file only grew, from byte 0 when it shrank, was replaced or its first lines changed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { closeQuietly, openForRead } from '../fs/files.js';
import type { ReaderContext } from '../session/reader.js';
import { scanForward } from '../session/scan.js';
import type { SessionInfo } from '../../core/info.js';
import { SessionSummary, type SummaryState } from '../session/summary.js';

const read = promisify(fs.read);

/** Bytes before the indexed offset whose hash must still match for an incremental read. */
const ANCHOR_BYTES = 256;
/** The header line is compared by hash; a header longer than this is compared by its first bytes. */
const HEAD_BYTES = 4096;

/**
 * What identifies a file's content without reading it: size, mtime, ctime, inode, device. Any
 * change means "look again"; ctime catches edits that restore size and mtime (`touch -r`).
 */
export interface Fingerprint {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
}

/** A session as the index knows it. Plain JSON: the index file is an array of these. */
export interface IndexRecord {
  readonly id: string;
  /** The file as it was stat'ed before it was last read (the content read is at least this new). */
  readonly fp: Fingerprint;
  /** Byte offset just past the last complete line folded into `state`. */
  readonly offset: number;
  /** Number of the line at `offset` (the header is line 1). */
  readonly line: number;
  /** Bytes after `offset` when last read: a line still being written, or a torn tail. */
  readonly tail: number;
  /** Hash of the file's first bytes (up to the header's newline), to notice a changed header. */
  readonly head: string;
  /** Hash of the end of the last line folded (its last bytes and newline), to notice a rewrite that only looks like growth. */
  readonly anchor: string;
  /** Number of bytes before `offset` that `anchor` hashes. */
  readonly anchorLength: number;
  readonly state: SummaryState;
}

/** The fingerprint of a stat result. */
export function fingerprintOf(st: fs.Stats): Fingerprint {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev };
}

/** True when two fingerprints describe the same file content. */
export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** The info a record stands for; `conflicts` is filled in by the index. */
export function infoOf(record: IndexRecord, conflicts: readonly string[]): SessionInfo {
  const summary = SessionSummary.restore(record.id, record.state);
  const info = summary.info(record.offset + record.tail, new Date(record.fp.mtimeMs).toISOString());
  // A tail without its newline is reported as `read()` reports it: one torn-tail problem.
  return { ...info, problems: info.problems + (record.tail > 0 ? 1 : 0), conflicts };
}

function hash(...parts: Buffer[]): string {
  const h = createHash('sha1');
  for (const part of parts) h.update(part);
  return h.digest('base64url').slice(0, 16);
}

async function readAt(fd: number, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await read(fd, buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** The head hash: line 1 without its newline, at most HEAD_BYTES of it. */
function headHash(firstBytes: Buffer): string {
  const nl = firstBytes.indexOf(0x0a);
  return hash((nl === -1 ? firstBytes : firstBytes.subarray(0, nl)).subarray(0, HEAD_BYTES));
}

/**
 * Brings `previous` up to date with the file `st` describes, or builds the record from byte 0.
 * Only complete lines are folded: a last line without its newline may be a write in progress, so
 * it is counted as a tail and read again next time. Throws what `openForRead` throws (ENOENT as
 * ERR_SESSION_NOT_FOUND, symlinks and FIFOs as ERR_UNSAFE_FILE).
 */
export async function foldSession(
  file: string,
  id: string,
  st: fs.Stats,
  ctx: ReaderContext<unknown>,
  previous: IndexRecord | undefined,
): Promise<IndexRecord> {
  const fp = fingerprintOf(st);
  if (previous !== undefined && (await grewOnly(file, previous, fp))) {
    const resumed = await foldFrom(file, id, fp, ctx, previous);
    if (resumed !== undefined) return resumed;
  }
  return (await foldFrom(file, id, fp, ctx, undefined)) as IndexRecord;
}

/** True when the file is the same file, longer, with the same header line and the same last indexed line. */
async function grewOnly(file: string, previous: IndexRecord, fp: Fingerprint): Promise<boolean> {
  const old = previous.fp;
  if (fp.ino !== old.ino || fp.dev !== old.dev || fp.size <= old.size || fp.size < previous.offset) return false;
  if (previous.offset === 0) return true;
  const { fd } = await openForRead(file);
  try {
    if (headHash(await readAt(fd, 0, HEAD_BYTES + 1)) !== previous.head) return false;
    const start = previous.offset - previous.anchorLength;
    return hash(await readAt(fd, start, previous.anchorLength)) === previous.anchor;
  } finally {
    await closeQuietly(fd);
  }
}

const NEWLINE = Buffer.from('\n');

/** Folds from `previous`'s offset (or from 0); undefined when a resumed fold turned out uncertain. */
async function foldFrom(
  file: string,
  id: string,
  fp: Fingerprint,
  ctx: ReaderContext<unknown>,
  previous: IndexRecord | undefined,
): Promise<IndexRecord | undefined> {
  const summary = previous === undefined ? new SessionSummary(id) : SessionSummary.restore(id, previous.state);
  let offset = previous?.offset ?? 0;
  let line = previous?.line ?? 1;
  let head = previous?.head ?? hash();
  let anchor = previous?.anchor ?? hash();
  let anchorLength = previous?.anchorLength ?? 0;
  // The end of the last complete line (copied: the scanner reuses its buffer); hashed once, after the loop.
  let lastEnd: Buffer | undefined;
  let tail = 0;
  for await (const scanned of scanForward(file, { offset, line, maxLineBytes: ctx.maxLineBytes })) {
    if (scanned.torn) {
      tail = scanned.length;
      break;
    }
    summary.feed(scanned, ctx);
    if (scanned.offset === 0) head = headHash(scanned.bytes);
    // The last line's end (capped) and its newline; an oversize line has no bytes kept, only the newline.
    lastEnd = Buffer.from(scanned.bytes.subarray(Math.max(0, scanned.bytes.length - (ANCHOR_BYTES - 1))));
    offset = scanned.offset + scanned.length + 1;
    line = (scanned.line ?? line) + 1;
  }
  if (summary.uncertain) return undefined;
  if (lastEnd !== undefined) {
    anchorLength = lastEnd.length + 1;
    anchor = hash(lastEnd, NEWLINE);
  }
  return { id, fp, offset, line, tail, head, anchor, anchorLength, state: summary.state() };
}
