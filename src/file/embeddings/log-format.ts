/**
 * The file backend's embeddings file, `.embeddings/vectors.bin`: binary, append-only.
 *
 * - A 16-byte header: `SLVEC\n`, a format version byte, a zero byte, the dimension (u32 LE), and
 *   four zero bytes. Written once, with the first vector.
 * - Then records, each `magic (u32) · body length (u32) · CRC-32 of the body (u32) · body`, all
 *   little-endian. A body is an op byte and its fields; strings are a u32 byte length and UTF-8
 *   (length 0xFFFFFFFF: absent):
 *   - 1 upsert: id, session id, entry id?, text?, metadata JSON?, then the unit vector (float32 × dimension);
 *   - 2 delete: id;
 *   - 3 delete a session's vectors: session id.
 *
 * Replaying the records in order gives the store's vectors. A record cut short by a crash fails its
 * CRC; the reader skips it (and says how many bytes) when records follow, and waits for the rest
 * when it is the last (a writer may be mid-write).
 */
import { crc32 } from 'node:zlib';
import type { PreparedEmbedding } from '../../core/embeddings.js';
import type { RowInfo } from '../../core/vector-set.js';

export const FILE_MAGIC = Buffer.from('SLVEC\n', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 16;
const RECORD_MAGIC = 0x43_45_56_53; // "SVEC" read as a little-endian u32
const PREFIX_BYTES = 12;
const ABSENT = 0xff_ff_ff_ff;
/** The smallest upsert record beside its vector: prefix, op byte, five string lengths. */
export const MIN_UPSERT_OVERHEAD = PREFIX_BYTES + 1 + 5 * 4;

const enum Op {
  Upsert = 1,
  Delete = 2,
  DeleteSession = 3,
}

/** A record as replayed. */
export type LogRecord =
  | { readonly op: 'upsert'; readonly info: RowInfo; readonly vector: Uint8Array }
  | { readonly op: 'delete'; readonly id: string }
  | { readonly op: 'deleteSession'; readonly sessionId: string };

/** The file header for `dimensions`. */
export function encodeHeader(dimensions: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  FILE_MAGIC.copy(header, 0);
  header[6] = FORMAT_VERSION;
  header.writeUInt32LE(dimensions, 8);
  return header;
}

/** The dimension a header declares; undefined when it is not one of ours or of a newer format. */
export function decodeHeader(header: Buffer): { dimensions: number; version: number } | undefined {
  if (header.length < HEADER_BYTES || !header.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)) return undefined;
  return { dimensions: header.readUInt32LE(8), version: header[6] as number };
}

/** The bytes of an upsert record. */
export function encodeUpsert(item: PreparedEmbedding): Buffer {
  const metadata = item.metadata === undefined ? undefined : JSON.stringify(item.metadata);
  const vector = Buffer.from(item.vector.buffer, item.vector.byteOffset, item.vector.byteLength);
  return record(Op.Upsert, [item.id, item.sessionId, item.entryId, item.text, metadata], vector);
}

/** The bytes of a delete record. */
export function encodeDelete(id: string): Buffer {
  return record(Op.Delete, [id]);
}

/** The bytes of a delete-session record. */
export function encodeDeleteSession(sessionId: string): Buffer {
  return record(Op.DeleteSession, [sessionId]);
}

function record(op: Op, strings: readonly (string | undefined)[], tail?: Buffer): Buffer {
  const encoded = strings.map((s) => (s === undefined ? undefined : Buffer.from(s, 'utf8')));
  const bodyLength = 1 + encoded.reduce((n, s) => n + 4 + (s?.length ?? 0), 0) + (tail?.length ?? 0);
  const out = Buffer.allocUnsafe(PREFIX_BYTES + bodyLength);
  let at = PREFIX_BYTES;
  out[at++] = op;
  for (const s of encoded) {
    out.writeUInt32LE(s === undefined ? ABSENT : s.length, at);
    at += 4;
    if (s !== undefined) at += s.copy(out, at);
  }
  if (tail !== undefined) tail.copy(out, at);
  out.writeUInt32LE(RECORD_MAGIC, 0);
  out.writeUInt32LE(bodyLength, 4);
  out.writeUInt32LE(crc32(out.subarray(PREFIX_BYTES)), 8);
  return out;
}

/** What one pass over a stretch of the file found. */
export interface Parsed {
  readonly records: LogRecord[];
  /** Where the next pass starts (relative to the stretch): after the last whole record. */
  readonly consumed: number;
  /** Bytes skipped as damaged (a record cut short by a crash, or bytes not ours). */
  readonly skipped: number;
}

/**
 * Replays the records in `bytes` (a stretch that starts at a record). Stops at a record not yet
 * whole; skips damaged bytes up to the next valid record.
 */
export function parseRecords(bytes: Buffer, dimensions: number): Parsed {
  const records: LogRecord[] = [];
  let at = 0;
  let skipped = 0;
  while (at + PREFIX_BYTES <= bytes.length) {
    const body = validBodyAt(bytes, at);
    if (body === 'partial') break;
    if (body === undefined) {
      const next = nextValidRecord(bytes, at + 1);
      if (next === undefined) break; // damaged or mid-write: only what follows can tell
      skipped += next - at;
      at = next;
      continue;
    }
    const decoded = decodeBody(body, dimensions);
    if (decoded !== undefined) records.push(decoded);
    else skipped += PREFIX_BYTES + body.length;
    at += PREFIX_BYTES + body.length;
  }
  return { records, consumed: at, skipped };
}

function validBodyAt(bytes: Buffer, at: number): Buffer | 'partial' | undefined {
  if (bytes.readUInt32LE(at) !== RECORD_MAGIC) return undefined;
  const length = bytes.readUInt32LE(at + 4);
  if (at + PREFIX_BYTES + length > bytes.length) return 'partial';
  const body = bytes.subarray(at + PREFIX_BYTES, at + PREFIX_BYTES + length);
  return crc32(body) === bytes.readUInt32LE(at + 8) ? body : undefined;
}

function nextValidRecord(bytes: Buffer, from: number): number | undefined {
  const magic = Buffer.allocUnsafe(4);
  magic.writeUInt32LE(RECORD_MAGIC, 0);
  for (let at = bytes.indexOf(magic, from); at !== -1; at = bytes.indexOf(magic, at + 1)) {
    const body = validBodyAt(bytes, at);
    if (body !== undefined && body !== 'partial') return at;
  }
  return undefined;
}

function decodeBody(body: Buffer, dimensions: number): LogRecord | undefined {
  const fields: (string | undefined)[] = [];
  let at = 1;
  const count = body[0] === Op.Upsert ? 5 : 1;
  for (let i = 0; i < count; i++) {
    if (at + 4 > body.length) return undefined;
    const length = body.readUInt32LE(at);
    at += 4;
    if (length === ABSENT) {
      fields.push(undefined);
      continue;
    }
    if (at + length > body.length) return undefined;
    fields.push(body.toString('utf8', at, at + length));
    at += length;
  }
  const [first, sessionId, entryId, text, metadata] = fields;
  if (first === undefined) return undefined;
  if (body[0] === Op.Delete) return { op: 'delete', id: first };
  if (body[0] === Op.DeleteSession) return { op: 'deleteSession', sessionId: first };
  if (body[0] !== Op.Upsert || sessionId === undefined || body.length - at !== dimensions * 4) return undefined;
  const info: RowInfo = { id: first, sessionId, entryId, text, metadata: metadata === undefined ? undefined : (JSON.parse(metadata) as Record<string, unknown>) };
  return { op: 'upsert', info, vector: body.subarray(at) };
}
