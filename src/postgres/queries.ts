/**
 * The PostgreSQL backend's reads: entries of a session by keyset (tail, from the last compaction,
 * pages after an entry, all of it in bounded pages), listing with the same keyset cursor as the
 * file backend, and full-text search done by the server (a trigram index serves `ILIKE` and
 * regular expressions). Nothing here downloads a whole session or scans a whole table.
 */
import type pg from 'pg';
import type { ListOptions, ListPage } from '../core/list-options.js';
import { encodeCursor, parseQuery } from '../core/list-query.js';
import { SessionStoreError } from '../core/errors.js';
import type { ReadOptions, ReadResult } from '../core/types.js';
import { decodeLine, type Problem } from '../format/codec.js';
import { classifyLine, type EntryValidator } from '../format/records.js';
import { infoOf, ROW_COLUMNS, type SessionRow } from './rows.js';

/** Rows read per round trip when streaming. */
export const PAGE_ROWS = 1000;

/** A stored entry row. */
export interface EntryRow {
  readonly seq: string;
  readonly line: string;
}

/** Entries of stored lines, validated as the file backend validates lines it reads; a line the schema refuses is a problem. */
export function decodeRows<T>(rows: readonly EntryRow[], validate: EntryValidator<T>): { entries: T[]; problems: Problem[] } {
  const entries: T[] = [];
  const problems: Problem[] = [];
  for (const row of rows) {
    const classified = classifyLine(decodeLine(Buffer.from(row.line)), false, validate);
    // The line number a file would have: the header is line 1, then one line per record.
    const line = Number(row.seq) + 1;
    if (classified.kind === 'entry') entries.push(classified.entry);
    else if (classified.kind === 'problem') problems.push({ line, offset: 0, kind: classified.problem, message: classified.message });
  }
  return { entries, problems };
}

/** The session's row, or an ERR_SESSION_NOT_FOUND naming the server. */
export async function sessionRow(db: pg.Pool, id: string, where: string): Promise<SessionRow> {
  const found = await db.query<SessionRow>(`SELECT ${ROW_COLUMNS} FROM sessionlog_sessions WHERE id = $1 AND trashed_at IS NULL`, [id]);
  const row = found.rows[0];
  if (row === undefined) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session ${JSON.stringify(id)} on ${where}.`);
  return row;
}

function checkCount(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
    throw new SessionStoreError('ERR_INVALID_OPTION', `Expected \`${name}\` to be an integer >= 0, got ${JSON.stringify(value)}.`);
  }
}

/** `read(id, options)`: one keyset query for the rows wanted. */
export async function readEntries<T>(db: pg.Pool, row: SessionRow, options: ReadOptions, validate: EntryValidator<T>): Promise<ReadResult<T>> {
  checkCount('limit', options.limit);
  checkCount('tail', options.tail);
  const entries = 'session_id = $1 AND NOT is_update';
  let rows: EntryRow[];
  let hasMore = false;
  if (options.tail !== undefined) {
    const result = await db.query<EntryRow>(`SELECT seq, line FROM sessionlog_entries WHERE ${entries} ORDER BY seq DESC LIMIT $2`, [row.id, options.tail]);
    rows = result.rows.reverse();
  } else {
    let from = 0;
    if (options.fromCompaction === true && row.last_compaction_seq !== null) from = Number(row.last_compaction_seq) - 1;
    if (options.after !== undefined) {
      const at = await db.query<{ seq: string }>('SELECT seq FROM sessionlog_entries WHERE session_id = $1 AND entry_id = $2', [row.id, options.after]);
      // As in a file: nothing follows an entry the session does not hold.
      if (at.rows[0] === undefined) return { entries: [], problems: [], hasMore: false };
      from = Math.max(from, Number(at.rows[0].seq));
    }
    const limit = options.limit === undefined ? null : options.limit + 1;
    const result = await db.query<EntryRow>(`SELECT seq, line FROM sessionlog_entries WHERE ${entries} AND seq > $2 ORDER BY seq LIMIT $3`, [row.id, from, limit]);
    rows = result.rows;
    if (options.limit !== undefined && rows.length > options.limit) {
      hasMore = true;
      rows = rows.slice(0, options.limit);
    }
  }
  return { ...decodeRows(rows, validate), hasMore };
}

/** Entry rows after `seq`, a page at a time. */
export async function entriesAfter(db: pg.Pool, id: string, seq: number, limit = PAGE_ROWS): Promise<EntryRow[]> {
  const result = await db.query<EntryRow>('SELECT seq, line FROM sessionlog_entries WHERE session_id = $1 AND NOT is_update AND seq > $2 ORDER BY seq LIMIT $3', [id, seq, limit]);
  return result.rows;
}

/** `list(options)`: the filter and the keyset cursor as SQL, one indexed query per page. */
export async function listSessions(db: pg.Pool, options: ListOptions): Promise<ListPage> {
  const query = parseQuery(options);
  const filter = options.filter ?? {};
  const where: string[] = ['trashed_at IS NULL'];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const ms = (value: string | Date): number => (value instanceof Date ? value.getTime() : Date.parse(value));
  if (filter.createdAfter !== undefined) where.push(`created_ms >= ${param(ms(filter.createdAfter))}`);
  if (filter.createdBefore !== undefined) where.push(`created_ms < ${param(ms(filter.createdBefore))}`);
  if (filter.updatedAfter !== undefined) where.push(`updated_ms >= ${param(ms(filter.updatedAfter))}`);
  if (filter.updatedBefore !== undefined) where.push(`updated_ms < ${param(ms(filter.updatedBefore))}`);
  if (filter.model !== undefined) where.push(`model = ${param(filter.model)}`);
  if (filter.cwd !== undefined) where.push(`cwd = ${param(filter.cwd)}`);
  if (filter.title !== undefined) where.push(`strpos(lower(title), ${param(filter.title.toLowerCase())}) > 0`);
  if (filter.metadata !== undefined) where.push(`metadata @> ${param(JSON.stringify(filter.metadata))}::jsonb`);
  const key = query.sort === 'updatedAt' ? 'updated_ms' : 'created_ms';
  const dir = query.order === 'desc' ? 'DESC' : 'ASC';
  if (query.after !== undefined) where.push(`(${key}, id) ${query.order === 'desc' ? '<' : '>'} (${param(query.after.t)}, ${param(query.after.i)})`);
  const result = await db.query<SessionRow & { key: string }>(
    `SELECT ${ROW_COLUMNS}, ${key} AS key FROM sessionlog_sessions WHERE ${where.join(' AND ')} ORDER BY ${key} ${dir}, id ${dir} LIMIT ${param(query.limit + 1)}`,
    params,
  );
  const rows = result.rows.slice(0, query.limit);
  const last = rows.at(-1);
  const nextCursor =
    result.rows.length > query.limit && last !== undefined ? encodeCursor({ s: query.sort, o: query.order, t: Number(last.key), i: last.id }) : undefined;
  return { sessions: rows.map(infoOf), nextCursor };
}
