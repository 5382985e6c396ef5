/**
 * Embeddings: vectors kept beside the sessions for recall, each tied to a session (and optionally
 * an entry), searched by cosine similarity. The contract every backend implements, and the checks
 * they share: one dimension per store, finite values, a vector that has a direction.
 */
import { SessionStoreError } from './errors.js';
import { assertValidId } from './ids.js';

/** What `upsert` takes. */
export interface EmbeddingInput {
  /** The vector's id; an upsert with an existing id replaces it. @default a new UUIDv7 */
  readonly id?: string;
  /** The session it belongs to; it must exist, and deleting it deletes the vector. */
  readonly sessionId: string;
  /** The entry it was computed from, if any. */
  readonly entryId?: string;
  /** The vector: numbers, a Float32Array or a Float64Array, of the store's dimension. */
  readonly vector: ArrayLike<number>;
  /** The text it was computed from, returned by `search` (redacted like entries). */
  readonly text?: string;
  /** Anything JSON, returned by `search` (redacted like entries). */
  readonly metadata?: Record<string, unknown>;
}

/** Options of `search`. */
export interface EmbeddingSearchOptions {
  /** How many hits at most. @default 10 (at most 10,000) */
  readonly limit?: number;
  /** Only vectors of this session. */
  readonly sessionId?: string;
}

/** One hit of `search`, best first. */
export interface EmbeddingHit {
  readonly id: string;
  readonly sessionId: string;
  readonly entryId: string | undefined;
  /** Cosine similarity, -1 to 1. */
  readonly score: number;
  readonly text?: string;
  readonly metadata?: Record<string, unknown>;
}

/** `store.embeddings`. */
export interface EmbeddingStore {
  /**
   * Stores a vector (replacing one with the same id) and resolves with its id once written
   * (fsynced under `durability: 'fsync'`). The first vector fixes the store's dimension.
   * @throws ERR_INVALID_VECTOR (not numbers, NaN, infinite, all zeros), ERR_DIMENSION_MISMATCH,
   *   ERR_SESSION_NOT_FOUND, ERR_INVALID_OPTION, ERR_IO
   */
  upsert(input: EmbeddingInput): Promise<string>;
  /** Many at once, in one write: all stored or none. Same checks as `upsert`. */
  upsertMany(inputs: readonly EmbeddingInput[]): Promise<string[]>;
  /**
   * The stored vectors most similar to `vector` (cosine), best first, exact (every vector is compared).
   * @throws ERR_INVALID_VECTOR, ERR_DIMENSION_MISMATCH
   */
  search(vector: ArrayLike<number>, options?: EmbeddingSearchOptions): Promise<EmbeddingHit[]>;
  /** Removes one vector; resolves whether there was one. */
  delete(id: string): Promise<boolean>;
  /** Removes every vector of a session; resolves how many there were. */
  deleteBySession(sessionId: string): Promise<number>;
  /** The store's dimension, or undefined before the first vector. */
  dimensions(): Promise<number | undefined>;
  /** How many vectors the store holds. */
  count(): Promise<number>;
}

/** A checked input: the vector scaled to length 1 as float32, the rest as given. */
export interface PreparedEmbedding {
  readonly id: string;
  readonly sessionId: string;
  readonly entryId: string | undefined;
  readonly vector: Float32Array;
  readonly text: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;
}

/** Longest vector id, in UTF-16 units. */
const MAX_ID_LENGTH = 512;
/** Largest dimension accepted: far above any embedding model, well below a runaway array. */
export const MAX_DIMENSIONS = 65_536;
/** Largest `limit` of a search. */
export const MAX_SEARCH_LIMIT = 10_000;

/**
 * `vector` as float32, scaled to length 1, checked against `dimensions` (undefined: any length the
 * store accepts). Cosine similarity is then a dot product.
 * @throws ERR_INVALID_VECTOR, ERR_DIMENSION_MISMATCH
 */
export function unitVector(vector: unknown, dimensions: number | undefined, what = 'The vector'): Float32Array {
  const isArrayLike = Array.isArray(vector) || vector instanceof Float32Array || vector instanceof Float64Array;
  if (!isArrayLike) throw invalid(`${what} must be an array of numbers, a Float32Array or a Float64Array; got ${describe(vector)}.`);
  const source = vector as ArrayLike<unknown>;
  if (source.length === 0 || source.length > MAX_DIMENSIONS) throw invalid(`${what} has ${source.length} values; a vector has 1 to ${MAX_DIMENSIONS}.`);
  if (dimensions !== undefined && source.length !== dimensions) {
    throw new SessionStoreError('ERR_DIMENSION_MISMATCH', `${what} has ${source.length} dimensions; this store holds ${dimensions}-dimensional vectors (one embedding model per store).`);
  }
  const out = new Float32Array(source.length);
  let sum = 0;
  for (let i = 0; i < source.length; i++) {
    const value = source[i];
    if (typeof value !== 'number') throw invalid(`${what} holds ${describe(value)} at index ${i}; every value must be a number.`);
    out[i] = value;
    const stored = out[i] as number;
    if (!Number.isFinite(stored)) throw invalid(`${what} holds ${String(value)} at index ${i}; every value must be finite (within float32 range).`);
    sum += stored * stored;
  }
  if (sum === 0) throw invalid(`${what} is all zeros: it has no direction, so no cosine similarity.`);
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
  return out;
}

/** Checks an input and scales its vector; `newId` names inputs that have no id. */
export function prepareEmbedding(input: EmbeddingInput, dimensions: number | undefined, newId: () => string): PreparedEmbedding {
  if (typeof input !== 'object' || input === null) throw new SessionStoreError('ERR_INVALID_OPTION', `An embedding must be an object { sessionId, vector, … }; got ${describe(input)}.`);
  assertValidId(input.sessionId);
  const id = input.id ?? newId();
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new SessionStoreError('ERR_INVALID_OPTION', `An embedding id must be a string of 1 to ${MAX_ID_LENGTH} characters; got ${describe(id)}.`);
  }
  if (input.entryId !== undefined && typeof input.entryId !== 'string') throw new SessionStoreError('ERR_INVALID_OPTION', `entryId must be a string; got ${describe(input.entryId)}.`);
  if (input.text !== undefined && typeof input.text !== 'string') throw new SessionStoreError('ERR_INVALID_OPTION', `text must be a string; got ${describe(input.text)}.`);
  if (input.metadata !== undefined && (typeof input.metadata !== 'object' || input.metadata === null || Array.isArray(input.metadata))) {
    throw new SessionStoreError('ERR_INVALID_OPTION', `metadata must be a plain object; got ${describe(input.metadata)}.`);
  }
  return { id, sessionId: input.sessionId, entryId: input.entryId, vector: unitVector(input.vector, dimensions, `The vector of embedding ${JSON.stringify(id.slice(0, 80))}`), text: input.text, metadata: input.metadata };
}

/** Checks the search options; returns the limit. */
export function searchLimit(options: EmbeddingSearchOptions): number {
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) throw new SessionStoreError('ERR_INVALID_OPTION', `limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}; got ${String(limit)}.`);
  if (options.sessionId !== undefined) assertValidId(options.sessionId);
  return limit;
}

function invalid(message: string): SessionStoreError {
  return new SessionStoreError('ERR_INVALID_VECTOR', message);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value === 'number' ? String(value) : typeof value;
}
