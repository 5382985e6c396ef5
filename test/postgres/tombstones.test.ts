// PostgreSQL embeddings: a removal leaves a tombstone that other processes' copies catch up on;
// old ones are pruned, and a copy older than the pruning reloads instead of keeping removed vectors.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TOMBSTONES_KEPT } from '../../src/postgres/embeddings.js';
import { openStore } from '../../src/index.js';
import { freshPgUrl, PG_URL } from '../helpers/postgres.js';

const vectors = (sessionId: string, count: number): { sessionId: string; vector: number[] }[] =>
  Array.from({ length: count }, (_, i) => ({ sessionId, vector: [1, i + 1, 2] }));

describe.skipIf(PG_URL === '')('PostgreSQL backend: embedding tombstones', () => {
  it(`keeps the newest ${TOMBSTONES_KEPT}, and a copy older than the pruned ones reloads`, async () => {
    const url = await freshPgUrl();
    const writer = await openStore({ url });
    const reader = await openStore({ url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const big = await writer.create();
      const small = await writer.create();
      await writer.embeddings.upsertMany(vectors(big.id, TOMBSTONES_KEPT + 50));
      const kept = await writer.embeddings.upsertMany(vectors(small.id, 5));
      // The reader's copy now holds every vector, seen up to the last upsert.
      expect(await reader.embeddings.count()).toBe(TOMBSTONES_KEPT + 55);
      // A cascade leaves one tombstone a vector, then one removal more: the oldest 51 are pruned,
      // among them removals the reader has not caught up on.
      await writer.delete(big.id);
      expect(await writer.embeddings.delete(kept[0] as string)).toBe(true);
      const tombstones = await client.query<{ n: string }>('SELECT count(*) AS n FROM sessionlog_embedding_tombstones');
      expect(Number(tombstones.rows[0]?.n)).toBe(TOMBSTONES_KEPT);
      expect(await reader.embeddings.count()).toBe(4);
      const hits = await reader.embeddings.search([1, 1, 2], { limit: 10 });
      expect(hits.map((hit) => hit.sessionId)).toEqual(Array(4).fill(small.id));
      // A copy that saw everything before the pruning catches up from the tombstones left.
      await writer.embeddings.delete(kept[1] as string);
      expect(await reader.embeddings.count()).toBe(3);
    } finally {
      await client.end();
      await Promise.all([writer.close(), reader.close()]);
    }
  });
});
