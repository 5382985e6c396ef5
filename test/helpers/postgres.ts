/** Fresh PostgreSQL stores for tests: each in a schema of its own on the throwaway server. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The throwaway server's URL, or '' when PostgreSQL is not installed (the suites skip). */
export const PG_URL = inject('pgUrl');

/** A URL whose tables live in a new, empty schema (with public, where pg_trgm is, on the path). */
export async function freshPgUrl(): Promise<string> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  return `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
}
