/**
 * The PostgreSQL backend's `store.embeddings`: vectors as rows (`bytea`, float32 little-endian,
 * 4 bytes a value), searched in this process over a copy kept in memory: pgvector is not packaged
 * for every server, and a scan in SQL over 100,000 rows is far slower than one over a Float32Array.
 *
 * The copy catches up before each call: every change takes a number from one sequence under an
 * advisory lock held to commit (schema.ts), so one query for the rows and tombstones numbered
 * above the last seen brings it up to date, whichever process or cascade made the change.
 */
import type pg from 'pg';
import { type EmbeddingHit, type EmbeddingInput, type EmbeddingSearchOptions, type EmbeddingStore, prepareEmbedding, searchLimit, unitVector } from '../core/embeddings.js';
import { SessionStoreError } from '../core/errors.js';
import { assertValidId, uuidv7 } from '../core/ids.js';
import { VectorSet } from '../core/vector-set.js';
import { EMBEDDING_LOCK } from './schema.js';

const FOREIGN_KEY_VIOLATION = '23503';
const DIMENSIONS_KEY = 'embedding_dimensions';
/** The newest tombstone pruned so far: a copy that has not seen that far reloads from scratch. */
const PRUNED_KEY = 'embedding_tombstones_pruned';
/**
 * Tombstones kept (about 50 bytes each): a process whose copy is more than this many removals
 * behind reloads every vector instead of catching up (a second or so for 100,000 vectors).
 */
export const TOMBSTONES_KEPT = 10_000;

interface ChangeRow {
  seq: string;
  /** Null on the row that tells how far tombstones were pruned. */
  id: string | null;
  session_id: string | null;
  entry_id: string | null;
  text: string | null;
  metadata: Record<string, unknown> | null;
  vector: Buffer | null;
}

/** What the store gives its embeddings. */
export interface PgEmbeddingsOptions {
  readonly pool: pg.Pool;
  readonly where: string;
  /** Redacts text and metadata before they are written. */
  readonly redact: <T>(value: T) => T;
}

/** The PostgreSQL backend's `store.embeddings`. */
export class PgEmbeddings implements EmbeddingStore {
  readonly #options: PgEmbeddingsOptions;
  #set: VectorSet | undefined;
  #seen = 0n;

  constructor(options: PgEmbeddingsOptions) {
    this.#options = options;
  }

  /** {@inheritDoc EmbeddingStore.upsert} */
  async upsert(input: EmbeddingInput): Promise<string> {
    const [id] = await this.upsertMany([input]);
    return id as string;
  }

  /** {@inheritDoc EmbeddingStore.upsertMany} */
  async upsertMany(inputs: readonly EmbeddingInput[]): Promise<string[]> {
    if (!Array.isArray(inputs)) throw new SessionStoreError('ERR_INVALID_OPTION', 'upsertMany takes an array of embeddings.');
    const items = (inputs as readonly EmbeddingInput[]).map((input: EmbeddingInput) => prepareEmbedding(input, undefined, () => uuidv7(Date.now())));
    if (items.length === 0) return [];
    await withEmbeddingLock(this.#options.pool, async (client) => {
      const first = (items[0] as { vector: Float32Array }).vector.length;
      await client.query('INSERT INTO sessionlog_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [DIMENSIONS_KEY, String(first)]);
      const dimensions = Number((await client.query<{ value: string }>('SELECT value FROM sessionlog_meta WHERE key = $1', [DIMENSIONS_KEY])).rows[0]?.value);
      for (const item of items) unitVector(item.vector, dimensions);
      try {
        await client.query(
          `INSERT INTO sessionlog_embeddings (id, session_id, entry_id, text, metadata, vector, seq)
           SELECT id, session_id, entry_id, text, metadata::jsonb, decode(vector, 'base64'), nextval('sessionlog_embedding_seq')
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(id, session_id, entry_id, text, metadata, vector)
           ON CONFLICT (id) DO UPDATE SET session_id = EXCLUDED.session_id, entry_id = EXCLUDED.entry_id, text = EXCLUDED.text,
             metadata = EXCLUDED.metadata, vector = EXCLUDED.vector, seq = EXCLUDED.seq`,
          [
            items.map((i) => i.id),
            items.map((i) => i.sessionId),
            items.map((i) => i.entryId ?? null),
            items.map((i) => this.#options.redact(i.text) ?? null),
            items.map((i) => (i.metadata === undefined ? null : JSON.stringify(this.#options.redact(i.metadata)))),
            items.map((i) => Buffer.from(i.vector.buffer, i.vector.byteOffset, i.vector.byteLength).toString('base64')),
          ],
        );
      } catch (err) {
        if (codeOf(err) !== FOREIGN_KEY_VIOLATION) throw err;
        throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `A session of these embeddings is not on ${this.#options.where}: create it before storing its embeddings.`);
      }
    });
    return items.map((item) => item.id);
  }

  /** {@inheritDoc EmbeddingStore.search} */
  async search(vector: ArrayLike<number>, options: EmbeddingSearchOptions = {}): Promise<EmbeddingHit[]> {
    const limit = searchLimit(options);
    const set = await this.#refresh();
    const query = unitVector(vector, set?.dimensions, 'The query vector');
    return set === undefined ? [] : set.search(query, limit, options.sessionId);
  }

  /** {@inheritDoc EmbeddingStore.delete} */
  async delete(id: string): Promise<boolean> {
    if (typeof id !== 'string' || id.length === 0) throw new SessionStoreError('ERR_INVALID_OPTION', 'delete takes an embedding id, a non-empty string.');
    return (await removeUnderLock(this.#options.pool, 'DELETE FROM sessionlog_embeddings WHERE id = $1', [id])) > 0;
  }

  /** {@inheritDoc EmbeddingStore.deleteBySession} */
  async deleteBySession(sessionId: string): Promise<number> {
    assertValidId(sessionId);
    return removeUnderLock(this.#options.pool, 'DELETE FROM sessionlog_embeddings WHERE session_id = $1', [sessionId]);
  }

  /** {@inheritDoc EmbeddingStore.dimensions} */
  async dimensions(): Promise<number | undefined> {
    return (await this.#refresh())?.dimensions;
  }

  /** {@inheritDoc EmbeddingStore.count} */
  async count(): Promise<number> {
    return (await this.#refresh())?.size ?? 0;
  }

  /** Brings the copy up to date: the rows and tombstones numbered above the last seen, in one snapshot. */
  async #refresh(): Promise<VectorSet | undefined> {
    if (this.#set === undefined) {
      const meta = await this.#options.pool.query<{ value: string }>('SELECT value FROM sessionlog_meta WHERE key = $1', [DIMENSIONS_KEY]);
      if (meta.rows[0] === undefined) return undefined;
      this.#set = new VectorSet(Number(meta.rows[0].value));
      this.#seen = 0n;
    }
    const set = this.#set;
    // One statement, one snapshot: the changes, and how far tombstones were pruned (the row without an id).
    const changes = await this.#options.pool.query<ChangeRow>(
      `SELECT seq, id, session_id, entry_id, text, metadata, vector FROM sessionlog_embeddings WHERE seq > $1
       UNION ALL SELECT seq, id, NULL, NULL, NULL, NULL, NULL FROM sessionlog_embedding_tombstones WHERE seq > $1
       UNION ALL SELECT value::bigint, NULL, NULL, NULL, NULL, NULL, NULL FROM sessionlog_meta WHERE key = $2
       ORDER BY seq`,
      [this.#seen.toString(), PRUNED_KEY],
    );
    const pruned = changes.rows.find((row) => row.id === null);
    if (pruned !== undefined && this.#seen > 0n && BigInt(pruned.seq) > this.#seen) {
      // Removals this copy has not seen may have left no tombstone: start again from the rows alone.
      this.#set = undefined;
      return this.#refresh();
    }
    for (const row of changes.rows) {
      if (row.id === null) continue;
      if (row.vector === null || row.session_id === null) set.delete(row.id);
      else set.setBytes({ id: row.id, sessionId: row.session_id, entryId: row.entry_id ?? undefined, text: row.text ?? undefined, metadata: row.metadata ?? undefined }, row.vector);
      const seq = BigInt(row.seq);
      if (seq > this.#seen) this.#seen = seq;
    }
    return set;
  }
}

/**
 * Runs `task` in a transaction that first takes the embeddings lock. Everything that removes
 * embeddings (deleting a session cascades to them) takes it first: taken later, after row locks,
 * it could deadlock with a concurrent upsert.
 */
export async function withEmbeddingLock<T>(pool: pg.Pool, task: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [EMBEDDING_LOCK.toString()]);
    const result = await task(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Runs a statement that removes vectors (or rows they cascade from), holding the embeddings lock,
 * then prunes the old tombstones in the same transaction; resolves the rows the statement removed.
 */
export async function removeUnderLock(pool: pg.Pool, sql: string, values: unknown[]): Promise<number> {
  return withEmbeddingLock(pool, async (client) => {
    const removed = (await client.query(sql, values)).rowCount ?? 0;
    if (removed > 0) await pruneTombstones(client);
    return removed;
  });
}

/**
 * Removes all but the newest {@link TOMBSTONES_KEPT} tombstones, and records the newest removed,
 * so that a copy older than that reloads (a removal it missed may have no tombstone left). Run
 * holding the embeddings lock, in the transaction that removed vectors.
 */
async function pruneTombstones(client: pg.PoolClient, keep: number = TOMBSTONES_KEPT): Promise<void> {
  await client.query(
    `WITH pruned AS (
       DELETE FROM sessionlog_embedding_tombstones
       WHERE seq <= (SELECT seq FROM sessionlog_embedding_tombstones ORDER BY seq DESC OFFSET $1 LIMIT 1)
       RETURNING seq)
     INSERT INTO sessionlog_meta (key, value) SELECT $2, max(seq)::text FROM pruned HAVING count(*) > 0
     ON CONFLICT (key) DO UPDATE SET value = GREATEST(sessionlog_meta.value::bigint, EXCLUDED.value::bigint)::text`,
    [keep, PRUNED_KEY],
  );
}

const codeOf = (err: unknown): unknown => (typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined);
