/**
 * The store's tables, created and migrated by the store itself. The version lives in
 * `sessionlog_meta`; a database migrated by a newer sessionlog is refused (its tables may mean
 * something this code does not know), never downgraded. Migrations run under an advisory lock, so
 * many processes opening one database at once migrate it once.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { SessionStoreError } from '../core/errors.js';

/** The schema version this code writes. */
export const SCHEMA_VERSION = 3;
/** Advisory lock key of changes to embeddings ("slembed"): held to commit, so their numbers commit in order. */
export const EMBEDDING_LOCK = 0x736c656d626564n;
/** Advisory lock key of migrations: "sessionlog" as bytes, folded into 63 bits. */
const MIGRATION_LOCK = 0x73657373696f6e6cn;

/** Each entry upgrades from the version before it to its index + 1. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE TABLE IF NOT EXISTS sessionlog_sessions (
    id text PRIMARY KEY,
    header text NOT NULL,
    created_ms bigint NOT NULL,
    created_iso text NOT NULL,
    updated_ms bigint NOT NULL,
    updated_iso text,
    title text,
    model text,
    cwd text,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    parent_id text,
    parent_entry_id text,
    version integer NOT NULL,
    entry_count bigint NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    usage_input double precision NOT NULL DEFAULT 0,
    usage_output double precision NOT NULL DEFAULT 0,
    usage_cache_read double precision NOT NULL DEFAULT 0,
    usage_cache_write double precision NOT NULL DEFAULT 0,
    usage_total double precision NOT NULL DEFAULT 0,
    last_seq bigint NOT NULL DEFAULT 0,
    last_compaction_seq bigint,
    trashed_at timestamptz
  );
  CREATE INDEX IF NOT EXISTS sessionlog_sessions_updated ON sessionlog_sessions (updated_ms, id) WHERE trashed_at IS NULL;
  CREATE INDEX IF NOT EXISTS sessionlog_sessions_created ON sessionlog_sessions (created_ms, id) WHERE trashed_at IS NULL;
  CREATE TABLE IF NOT EXISTS sessionlog_entries (
    session_id text NOT NULL REFERENCES sessionlog_sessions (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    entry_id text NOT NULL,
    is_update boolean NOT NULL,
    line text NOT NULL,
    search_text text NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, seq),
    UNIQUE (session_id, entry_id)
  );
  CREATE INDEX IF NOT EXISTS sessionlog_entries_text ON sessionlog_entries USING gin (search_text gin_trgm_ops);
  `,
  // 2: artifacts, content-addressed; a session's references go with it.
  `
  CREATE TABLE IF NOT EXISTS sessionlog_artifacts (
    ref text PRIMARY KEY,
    data bytea NOT NULL,
    size bigint NOT NULL
  );
  CREATE TABLE IF NOT EXISTS sessionlog_artifact_refs (
    session_id text NOT NULL REFERENCES sessionlog_sessions (id) ON DELETE CASCADE,
    ref text NOT NULL REFERENCES sessionlog_artifacts (ref),
    media_type text,
    name text,
    seq bigserial,
    PRIMARY KEY (session_id, ref)
  );
  CREATE INDEX IF NOT EXISTS sessionlog_artifact_refs_ref ON sessionlog_artifact_refs (ref);
  `,
  // 3: artifacts stored uncompressed (read in slices by getStream); embeddings. Every change takes a number from one sequence, under one advisory lock held to
  // commit, so numbers commit in order and a process's copy catches up by asking for the numbers
  // above the last it saw; a removal (also by a session's cascade) leaves a tombstone with its number.
  `
  ALTER TABLE sessionlog_artifacts ALTER COLUMN data SET STORAGE EXTERNAL;
  CREATE SEQUENCE IF NOT EXISTS sessionlog_embedding_seq;
  CREATE TABLE IF NOT EXISTS sessionlog_embeddings (
    id text PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessionlog_sessions (id) ON DELETE CASCADE,
    entry_id text,
    text text,
    metadata jsonb,
    vector bytea NOT NULL,
    seq bigint NOT NULL
  );
  CREATE INDEX IF NOT EXISTS sessionlog_embeddings_seq ON sessionlog_embeddings (seq);
  CREATE INDEX IF NOT EXISTS sessionlog_embeddings_session ON sessionlog_embeddings (session_id);
  CREATE TABLE IF NOT EXISTS sessionlog_embedding_tombstones (seq bigint PRIMARY KEY, id text NOT NULL);
  CREATE OR REPLACE FUNCTION sessionlog_embedding_removed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_advisory_xact_lock(${EMBEDDING_LOCK});
    INSERT INTO sessionlog_embedding_tombstones (seq, id) VALUES (nextval('sessionlog_embedding_seq'), OLD.id);
    RETURN OLD;
  END $$;
  DROP TRIGGER IF EXISTS sessionlog_embedding_removed ON sessionlog_embeddings;
  CREATE TRIGGER sessionlog_embedding_removed AFTER DELETE ON sessionlog_embeddings FOR EACH ROW EXECUTE FUNCTION sessionlog_embedding_removed();
  `,
];

/**
 * Creates or migrates the tables to {@link SCHEMA_VERSION}.
 * @throws ERR_UNSUPPORTED_VERSION (a newer schema), or the server's error
 */
export async function migrate(client: pg.ClientBase, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    // First the lock, then even the first table: concurrent CREATE TABLE IF NOT EXISTS can collide.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query('CREATE TABLE IF NOT EXISTS sessionlog_meta (key text PRIMARY KEY, value text NOT NULL)');
    const row = await client.query<{ value: string }>("SELECT value FROM sessionlog_meta WHERE key = 'schema_version'");
    const current = row.rows[0] === undefined ? 0 : Number(row.rows[0].value);
    if (current > SCHEMA_VERSION) {
      throw new SessionStoreError(
        'ERR_UNSUPPORTED_VERSION',
        `The sessionlog tables in ${where} are at schema version ${current}; this sessionlog knows up to ${SCHEMA_VERSION}. Upgrade sessionlog; nothing was changed.`,
      );
    }
    for (let version = current; version < SCHEMA_VERSION; version++) await client.query(MIGRATIONS[version] as string);
    if (current < SCHEMA_VERSION) {
      await client.query(
        "INSERT INTO sessionlog_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        [String(SCHEMA_VERSION)],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The database's key for redaction markers (docs/secrets.md), made by the first store that needs it. */
export async function redactKey(client: pg.ClientBase): Promise<Buffer> {
  await client.query("INSERT INTO sessionlog_meta (key, value) VALUES ('redact_key', $1) ON CONFLICT (key) DO NOTHING", [randomBytes(32).toString('hex')]);
  const key = await client.query<{ value: string }>("SELECT value FROM sessionlog_meta WHERE key = 'redact_key'");
  return Buffer.from(key.rows[0]?.value ?? '', 'hex');
}
