/** Statements on whole sessions: create (exclusive across machines), fork (copied on the server), id prefixes. */
import type pg from 'pg';
import { SessionStoreError } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';
import { msOf } from '../core/list-query.js';
import { encodeLine } from '../format/codec.js';
import { buildHeader } from '../format/header.js';
import type { Header } from '../format/schema.js';
import { foldRecords, type InsertedRecord, ROW_COLUMNS, type SessionRow } from './rows.js';

/**
 * Inserts a session's row; `ON CONFLICT DO NOTHING` makes create exclusive across every process and
 * machine sharing the database. @throws ERR_SESSION_EXISTS
 */
export async function insertSession(db: pg.Pool | pg.ClientBase, header: Header, line: string, where: string): Promise<SessionRow> {
  const created = msOf(header.createdAt);
  const result = await db.query<SessionRow>(
    `INSERT INTO sessionlog_sessions (id, header, created_ms, created_iso, updated_ms, updated_iso, title, model, cwd, metadata, parent_id, parent_entry_id, version, bytes)
     VALUES ($1, $2, $3, $4, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (id) DO NOTHING RETURNING ${ROW_COLUMNS}`,
    [
      header.id, line.slice(0, -1), created, header.createdAt, header.title ?? null, header.model ?? null, header.cwd ?? null,
      JSON.stringify(header.metadata ?? {}), header.parent?.id ?? null, header.parent?.entryId ?? null, header.version, Buffer.byteLength(line),
    ],
  );
  const row = result.rows[0];
  if (row === undefined) throw new SessionStoreError('ERR_SESSION_EXISTS', `A session ${JSON.stringify(header.id)} already exists on ${where}; pick another id or open it.`);
  return row;
}

/** What a fork copies. */
export interface CopyPlan {
  readonly id: string;
  readonly newId: string;
  readonly at: string | undefined;
  readonly title: string | undefined;
  readonly now: string;
  readonly where: string;
}

/**
 * Forks on the server, in one transaction: the new row with a header naming its parent, and the
 * parent's entries up to `at` copied with their lines unchanged.
 * @throws ERR_SESSION_NOT_FOUND, ERR_INVALID_OPTION (unknown `at`), ERR_SESSION_EXISTS
 */
export async function copySession(db: pg.Pool, plan: CopyPlan): Promise<SessionRow> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const found = await client.query<SessionRow>(`SELECT ${ROW_COLUMNS} FROM sessionlog_sessions WHERE id = $1 AND trashed_at IS NULL`, [plan.id]);
    const parent = found.rows[0];
    if (parent === undefined) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session ${JSON.stringify(plan.id)} on ${plan.where}.`);
    let upTo = Number(parent.last_seq);
    let lastId: string | undefined;
    if (plan.at !== undefined) {
      const at = await client.query<{ seq: string }>('SELECT seq FROM sessionlog_entries WHERE session_id = $1 AND entry_id = $2 AND NOT is_update', [plan.id, plan.at]);
      if (at.rows[0] === undefined) {
        throw new SessionStoreError('ERR_INVALID_OPTION', `No entry with id ${JSON.stringify(plan.at)} in session ${plan.id}; pass an entry id from read().`);
      }
      upTo = Number(at.rows[0].seq);
      lastId = plan.at;
    } else {
      const last = await client.query<{ entry_id: string }>('SELECT entry_id FROM sessionlog_entries WHERE session_id = $1 AND NOT is_update ORDER BY seq DESC LIMIT 1', [plan.id]);
      lastId = last.rows[0]?.entry_id;
    }
    // The header the file backend's fork writes: the parent's fields, the title given, and the parent.
    const title = plan.title ?? parent.title ?? undefined;
    const header = buildHeader(
      plan.newId,
      {
        ...(title === undefined ? {} : { title }),
        ...(parent.model === null ? {} : { model: parent.model }),
        ...(parent.cwd === null ? {} : { cwd: parent.cwd }),
        metadata: { ...parent.metadata },
        parent: lastId === undefined ? { id: plan.id } : { id: plan.id, entryId: lastId },
      },
      plan.now,
    );
    const row = await insertSession(client, header, encodeLine(header), plan.where);
    const copied = await client.query<{ seq: string; line: string }>(
      `INSERT INTO sessionlog_entries (session_id, seq, entry_id, is_update, line, search_text)
       SELECT $1, row_number() OVER (ORDER BY seq), entry_id, false, line, search_text FROM sessionlog_entries
       WHERE session_id = $2 AND NOT is_update AND seq <= $3 ORDER BY seq RETURNING seq, line`,
      [plan.newId, plan.id, upTo],
    );
    const records: InsertedRecord[] = copied.rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((r) => ({ seq: Number(r.seq), value: JSON.parse(r.line) as Record<string, unknown>, bytes: Buffer.byteLength(r.line) + 1, isUpdate: false }));
    foldRecords(row, records);
    await client.query(
      `UPDATE sessionlog_sessions SET updated_iso = $2, updated_ms = $3, entry_count = $4, bytes = $5, usage_input = $6, usage_output = $7,
         usage_cache_read = $8, usage_cache_write = $9, usage_total = $10, last_seq = $11, last_compaction_seq = $12 WHERE id = $1`,
      [plan.newId, row.updated_iso, msOf(row.updated_iso ?? row.created_iso), row.entry_count, row.bytes, row.usage_input, row.usage_output,
        row.usage_cache_read, row.usage_cache_write, row.usage_total, records.length, row.last_compaction_seq],
    );
    await client.query('COMMIT');
    row.last_seq = records.length;
    return row;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * The one session named by `name`: its id, or the prefix of exactly one id.
 * @throws ERR_INVALID_ID, ERR_SESSION_NOT_FOUND, ERR_AMBIGUOUS_ID (naming a few candidates)
 */
export async function resolvePrefix(db: pg.Pool, name: string, where: string): Promise<string> {
  // A prefix is valid when it is a valid id itself, as in the file backend.
  assertValidId(typeof name === 'string' && name.endsWith('.') ? `${name}x` : name);
  const result = await db.query<{ id: string }>(
    "SELECT id FROM sessionlog_sessions WHERE trashed_at IS NULL AND (id = $1 OR id LIKE $2 ESCAPE '\\') ORDER BY id = $1 DESC, id LIMIT 6",
    [name, `${name.replace(/[\\%_]/g, '\\$&')}%`],
  );
  const ids = result.rows.map((row) => row.id);
  if (ids[0] === name) return name;
  if (ids.length === 1) return ids[0] as string;
  if (ids.length === 0) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session id starts with ${JSON.stringify(name)} on ${where}.`);
  throw new SessionStoreError('ERR_AMBIGUOUS_ID', `${JSON.stringify(name)} names several sessions on ${where} (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}); give more of the id.`);
}
