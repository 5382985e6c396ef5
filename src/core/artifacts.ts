/**
 * Artifacts: files and images a session produced, kept out of its transcript and content-addressed
 * (`sha256:<hex>` of the bytes, so the same bytes are stored once); an entry refers to one by its
 * ref. The contract every backend implements, and what they share: ref checks and input reading.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SessionStoreError } from './errors.js';

/** What `put` accepts: bytes, text (UTF-8), or a stream of bytes. */
export type ArtifactData = Uint8Array | string | AsyncIterable<Uint8Array> | Readable;

/** Options of `put`. */
export interface PutOptions {
  /** A media type such as `image/png`; kept per session. */
  readonly mediaType?: string;
  /** A file name to show; kept per session. */
  readonly name?: string;
}

/** An artifact as a session lists it. */
export interface ArtifactInfo {
  /** `sha256:<64 hex>`: the artifact's address. */
  readonly ref: string;
  readonly size: number;
  readonly mediaType: string | undefined;
  readonly name: string | undefined;
}

/** `store.artifacts`. */
export interface ArtifactStore {
  /**
   * Stores `data` for session `sessionId` (written once, atomically; fsynced under `durability:
   * 'fsync'`) and returns its ref. The same bytes put again, by any session, are not stored twice.
   * @throws ERR_SESSION_NOT_FOUND, ERR_INVALID_OPTION (data of another kind), ERR_IO
   */
  put(sessionId: string, data: ArtifactData, options?: PutOptions): Promise<ArtifactInfo>;
  /** The bytes of `ref`, or undefined when the store has none. @throws ERR_INVALID_REF */
  get(ref: string): Promise<Buffer | undefined>;
  /**
   * The bytes of `ref` as a stream, for artifacts too large to hold in memory at once; undefined
   * when the store has none. @throws ERR_INVALID_REF
   */
  getStream(ref: string): Promise<Readable | undefined>;
  /** The artifacts of a session, in the order first put. */
  list(sessionId: string): Promise<ArtifactInfo[]>;
  /**
   * Removes artifacts no session refers to (a session's are released when it is deleted); never
   * races a concurrent `put` of the same bytes. Returns the refs removed.
   */
  gc(): Promise<string[]>;
}

const REF = /^sha256:[0-9a-f]{64}$/;

/** The hex digest of a ref, checked before any path or query is built from it. @throws ERR_INVALID_REF */
export function digestOf(ref: unknown): string {
  if (typeof ref !== 'string' || !REF.test(ref)) {
    throw new SessionStoreError('ERR_INVALID_REF', `Expected an artifact ref, "sha256:" and 64 lowercase hex digits; got ${typeof ref === 'string' ? JSON.stringify(ref.slice(0, 80)) : typeof ref}.`);
  }
  return ref.slice('sha256:'.length);
}

/** Bytes given whole (not a stream), as a Buffer; undefined for a stream. */
export function wholeBytes(data: ArtifactData): Buffer | undefined {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof (data as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') return undefined;
  throw new SessionStoreError('ERR_INVALID_OPTION', 'Artifact data must be a Uint8Array, a string, or an async iterable (a stream) of Uint8Arrays.');
}

/** `sha256:<hex>` of `bytes`. */
export function refOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
