/**
 * The vectors of a store in memory, as every backend searches them: one Float32Array holding every
 * unit vector row after row, so exact search is a single pass of dot products over contiguous
 * memory. Rows are reused: removing a vector moves the last row into its place.
 */
import type { EmbeddingHit, PreparedEmbedding } from './embeddings.js';

/** What a row keeps besides its vector. */
export interface RowInfo {
  readonly id: string;
  readonly sessionId: string;
  readonly entryId: string | undefined;
  readonly text: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;
}

/** The vectors of a store, searchable. */
export class VectorSet {
  readonly dimensions: number;
  #rows: Float32Array;
  /** The same memory as bytes, for copying stored vectors in (one view: making one per row is slow). */
  #bytes: Uint8Array;
  /** Per row: a small number for its session, so a session filter compares integers. */
  #sessionOf: Int32Array;
  #info: RowInfo[] = [];
  readonly #rowOf = new Map<string, number>();
  readonly #sessionCode = new Map<string, number>();

  constructor(dimensions: number) {
    this.dimensions = dimensions;
    this.#rows = new Float32Array(dimensions * 16);
    this.#bytes = new Uint8Array(this.#rows.buffer);
    this.#sessionOf = new Int32Array(16);
  }

  /** How many vectors. */
  get size(): number {
    return this.#info.length;
  }

  /** Every vector's info and row, for rewriting a store's file. */
  *entries(): Generator<PreparedEmbedding> {
    for (let row = 0; row < this.#info.length; row++) {
      const info = this.#info[row] as RowInfo;
      yield { ...info, vector: this.#rows.subarray(row * this.dimensions, (row + 1) * this.dimensions) };
    }
  }

  /** Adds or replaces a vector; `vector` is a unit vector of this set's dimension. */
  set(item: PreparedEmbedding): void {
    this.#rows.set(item.vector, this.#place(item) * this.dimensions);
  }

  /** Adds or replaces a vector given as the bytes of a stored unit vector (little-endian float32), as loading does. */
  setBytes(item: RowInfo, bytes: Uint8Array): void {
    const row = this.#place(item); // first: placing may grow (and replace) the buffer
    this.#bytes.set(bytes, row * this.dimensions * 4);
  }

  /** The row of `item`'s id (a new one at the end when it has none), its info and session set. */
  #place(item: RowInfo): number {
    const info: RowInfo = { id: item.id, sessionId: item.sessionId, entryId: item.entryId, text: item.text, metadata: item.metadata };
    let row = this.#rowOf.get(item.id);
    if (row === undefined) {
      row = this.#info.length;
      this.#grow(row + 1);
      this.#rowOf.set(item.id, row);
      this.#info.push(info);
    } else {
      this.#info[row] = info;
    }
    this.#sessionOf[row] = this.#codeOf(item.sessionId);
    return row;
  }

  /** Removes a vector; returns whether there was one. */
  delete(id: string): boolean {
    const row = this.#rowOf.get(id);
    if (row === undefined) return false;
    this.#rowOf.delete(id);
    const last = this.#info.length - 1;
    if (row !== last) {
      const moved = this.#info[last] as RowInfo;
      this.#info[row] = moved;
      this.#rowOf.set(moved.id, row);
      this.#rows.copyWithin(row * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
      this.#sessionOf[row] = this.#sessionOf[last] as number;
    }
    this.#info.pop();
    return true;
  }

  /** Removes every vector of a session; returns how many. */
  deleteSession(sessionId: string): number {
    const ids = this.#info.filter((info) => info.sessionId === sessionId).map((info) => info.id);
    for (const id of ids) this.delete(id);
    return ids.length;
  }

  /** Removes everything. */
  clear(): void {
    this.#info = [];
    this.#rowOf.clear();
    this.#sessionCode.clear();
  }

  /**
   * The `limit` rows with the highest dot product with `query` (a unit vector), best first;
   * only rows of `sessionId` when given. Exact: every row is compared.
   */
  search(query: Float32Array, limit: number, sessionId?: string): EmbeddingHit[] {
    const code = sessionId === undefined ? -1 : this.#sessionCode.get(sessionId);
    if (code === undefined) return [];
    const rows = this.#rows;
    const sessions = this.#sessionOf;
    const d = this.dimensions;
    const n = this.#info.length;
    // The best so far, kept sorted (best first) in two typed arrays; `worst` is the bar to enter.
    const bestScore = new Float64Array(limit);
    const bestRow = new Int32Array(limit);
    let filled = 0;
    let worst = -Infinity;
    const unrolled = d - (d % 4);
    for (let r = 0, o = 0; r < n; r++, o += d) {
      if (code !== -1 && sessions[r] !== code) continue;
      // Four sums in flight: independent additions the CPU can overlap.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j < unrolled; j += 4) {
        s0 += (rows[o + j] as number) * (query[j] as number);
        s1 += (rows[o + j + 1] as number) * (query[j + 1] as number);
        s2 += (rows[o + j + 2] as number) * (query[j + 2] as number);
        s3 += (rows[o + j + 3] as number) * (query[j + 3] as number);
      }
      for (; j < d; j++) s0 += (rows[o + j] as number) * (query[j] as number);
      const score = s0 + s1 + s2 + s3;
      if (filled === limit && score <= worst) continue;
      let at = filled < limit ? filled++ : limit - 1;
      while (at > 0 && (bestScore[at - 1] as number) < score) {
        bestScore[at] = bestScore[at - 1] as number;
        bestRow[at] = bestRow[at - 1] as number;
        at--;
      }
      bestScore[at] = score;
      bestRow[at] = r;
      if (filled === limit) worst = bestScore[limit - 1] as number;
    }
    const hits: EmbeddingHit[] = [];
    for (let i = 0; i < filled; i++) {
      const info = this.#info[bestRow[i] as number] as RowInfo;
      // Rounding can carry a vector's similarity with itself a hair past 1.
      const score = Math.max(-1, Math.min(1, bestScore[i] as number));
      hits.push({ id: info.id, sessionId: info.sessionId, entryId: info.entryId, score, ...(info.text === undefined ? {} : { text: info.text }), ...(info.metadata === undefined ? {} : { metadata: info.metadata }) });
    }
    return hits;
  }

  #codeOf(sessionId: string): number {
    let code = this.#sessionCode.get(sessionId);
    if (code === undefined) {
      code = this.#sessionCode.size;
      this.#sessionCode.set(sessionId, code);
    }
    return code;
  }

  /**
   * Makes room for `rows` vectors at once. Loading a file reserves what its size implies: growing
   * step by step costs more than the loading itself (every new buffer is zeroed and faulted in).
   */
  reserve(rows: number): void {
    this.#grow(rows, rows);
  }

  #grow(rows: number, capacity = Math.max(rows, (this.#rows.length / this.dimensions) * 2)): void {
    if (rows * this.dimensions <= this.#rows.length) return;
    const next = new Float32Array(capacity * this.dimensions);
    next.set(this.#rows);
    this.#rows = next;
    this.#bytes = new Uint8Array(next.buffer);
    const sessions = new Int32Array(capacity);
    sessions.set(this.#sessionOf);
    this.#sessionOf = sessions;
  }
}
