/**
 * The PostgreSQL backend's artifacts: `sessionlog_artifacts` (ref, bytes) and
 * `sessionlog_artifact_refs` (which session uses which, deleted with the session). An artifact is
 * held in memory while it is put or got (bytea): fine for images and files, not for gigabytes.
 * Removing unused artifacts never races a put: the reference's foreign key locks the artifact row,
 * so a removal that meets a new reference fails and leaves it.
 */
import { Readable } from 'node:stream';
import type pg from 'pg';
import { type ArtifactData, type ArtifactInfo, type ArtifactStore, digestOf, type PutOptions, refOf, wholeBytes } from '../core/artifacts.js';
import { SessionStoreError } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';

const FOREIGN_KEY_VIOLATION = '23503';
const STREAM_SLICE = 4 << 20;

async function collect(data: ArtifactData): Promise<Buffer> {
  const whole = wholeBytes(data);
  if (whole !== undefined) return whole;
  const chunks: Buffer[] = [];
  for await (const chunk of data as AsyncIterable<Uint8Array>) {
    if (!(chunk instanceof Uint8Array)) throw new SessionStoreError('ERR_INVALID_OPTION', 'An artifact stream must yield Uint8Arrays (Buffers), not strings or objects.');
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

const codeOf = (err: unknown): unknown => (typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined);

/** The PostgreSQL backend's `store.artifacts`. */
export class PgArtifacts implements ArtifactStore {
  readonly #pool: pg.Pool;
  readonly #where: string;

  constructor(pool: pg.Pool, where: string) {
    this.#pool = pool;
    this.#where = where;
  }

  /** {@inheritDoc ArtifactStore.put} */
  async put(sessionId: string, data: ArtifactData, options: PutOptions = {}): Promise<ArtifactInfo> {
    assertValidId(sessionId);
    const bytes = await collect(data);
    const ref = refOf(bytes);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#pool.query(
          `WITH a AS (INSERT INTO sessionlog_artifacts (ref, data, size) VALUES ($1, $2, $3) ON CONFLICT (ref) DO NOTHING)
           INSERT INTO sessionlog_artifact_refs (session_id, ref, media_type, name) VALUES ($4, $1, $5, $6) ON CONFLICT (session_id, ref) DO NOTHING`,
          [ref, bytes, bytes.length, sessionId, options.mediaType ?? null, options.name ?? null],
        );
        return { ref, size: bytes.length, mediaType: options.mediaType, name: options.name };
      } catch (err) {
        if (codeOf(err) !== FOREIGN_KEY_VIOLATION) throw err;
        // The session does not exist, or a removal of the same bytes committed first: look which.
        const session = await this.#pool.query('SELECT 1 FROM sessionlog_sessions WHERE id = $1', [sessionId]);
        if (session.rowCount === 0) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session ${sessionId} on ${this.#where}: create it before putting artifacts in it.`);
        if (attempt >= 3) throw err;
      }
    }
  }

  /** {@inheritDoc ArtifactStore.get} */
  async get(ref: string): Promise<Buffer | undefined> {
    digestOf(ref);
    const result = await this.#pool.query<{ data: Buffer }>('SELECT data FROM sessionlog_artifacts WHERE ref = $1', [ref]);
    return result.rows[0]?.data;
  }

  /**
   * {@inheritDoc ArtifactStore.getStream}
   * Read from the server 4 MB at a time (the column is stored uncompressed, so a slice is read
   * without the whole value): memory stays bounded whatever the size.
   */
  async getStream(ref: string): Promise<Readable | undefined> {
    digestOf(ref);
    const head = await this.#pool.query<{ size: string }>('SELECT size FROM sessionlog_artifacts WHERE ref = $1', [ref]);
    if (head.rows[0] === undefined) return undefined;
    const size = Number(head.rows[0].size);
    const pool = this.#pool;
    const where = this.#where;
    return Readable.from((async function* slices() {
      for (let at = 0; at < size; at += STREAM_SLICE) {
        const slice = await pool.query<{ data: Buffer }>('SELECT substring(data FROM $2::int FOR $3::int) AS data FROM sessionlog_artifacts WHERE ref = $1', [ref, at + 1, STREAM_SLICE]);
        const data = slice.rows[0]?.data;
        if (data === undefined) throw new SessionStoreError('ERR_INVALID_REF', `Artifact ${ref} was removed from ${where} while it was read.`);
        yield data;
      }
    })(), { objectMode: false });
  }

  /** {@inheritDoc ArtifactStore.list} */
  async list(sessionId: string): Promise<ArtifactInfo[]> {
    assertValidId(sessionId);
    const result = await this.#pool.query<{ ref: string; size: string; media_type: string | null; name: string | null }>(
      'SELECT r.ref, a.size, r.media_type, r.name FROM sessionlog_artifact_refs r JOIN sessionlog_artifacts a USING (ref) WHERE r.session_id = $1 ORDER BY r.seq',
      [sessionId],
    );
    return result.rows.map((row) => ({ ref: row.ref, size: Number(row.size), mediaType: row.media_type ?? undefined, name: row.name ?? undefined }));
  }

  /** {@inheritDoc ArtifactStore.gc} */
  async gc(): Promise<string[]> {
    try {
      const result = await this.#pool.query<{ ref: string }>(
        'DELETE FROM sessionlog_artifacts a WHERE NOT EXISTS (SELECT 1 FROM sessionlog_artifact_refs r WHERE r.ref = a.ref) RETURNING ref',
      );
      return result.rows.map((row) => row.ref);
    } catch (err) {
      // A put referenced one of them meanwhile: nothing was removed; the next gc will.
      if (codeOf(err) === FOREIGN_KEY_VIOLATION) return [];
      throw err;
    }
  }
}
