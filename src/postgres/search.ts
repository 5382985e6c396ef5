/**
 * Full-text search done by the server: each entry's searchable text (the strings the file backend
 * searches: content, tool calls and results, summaries) is a column with a trigram index, which
 * serves both `ILIKE '%…%'` and regular expressions. Hits come back in pages, most recently
 * updated session first, then in session order; snippets are cut here, as the file backend cuts them.
 *
 * A difference from the file backend: `regex: true` runs PostgreSQL's regular expressions (POSIX
 * ARE), not JavaScript's; the common syntax (classes, alternation, anchors, quantifiers) is the same.
 */
import type pg from 'pg';
import type { SearchHit, SearchOptions } from '../core/types.js';
import { makeMatcher, searchableText, snippetOf } from '../search/text.js';

/** Hits fetched per round trip. */
const PAGE = 200;

interface HitRow {
  readonly session_id: string;
  readonly seq: string;
  readonly line: string;
  readonly title: string | null;
  readonly rank: string;
}

/** Streams the hits of `query`, checked by the caller (`checkSearch`). */
export async function* searchServer(db: pg.Pool, query: string, options: SearchOptions, where: string): AsyncGenerator<SearchHit> {
  void where;
  const matcher = makeMatcher(query, options);
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const condition =
    options.regex === true
      ? `e.search_text ${options.ignoreCase === true ? '~*' : '~'} ${param(query)}`
      : `e.search_text ${options.ignoreCase === true ? 'ILIKE' : 'LIKE'} ${param(`%${query.replace(/[\\%_]/g, '\\$&')}%`)} ESCAPE '\\'`;
  const scope = options.sessions === undefined ? '' : `AND s.id = ANY(${param([...options.sessions])}::text[])`;
  const perSession = options.limitPerSession === undefined ? '' : `WHERE rank <= ${param(options.limitPerSession)}`;
  const sql = `SELECT * FROM (
      SELECT e.session_id, e.seq, e.line, s.title, s.updated_ms,
        row_number() OVER (PARTITION BY e.session_id ORDER BY e.seq) AS rank
      FROM sessionlog_entries e JOIN sessionlog_sessions s ON s.id = e.session_id
      WHERE s.trashed_at IS NULL AND NOT e.is_update AND ${condition} ${scope}
    ) hits ${perSession}
    ORDER BY updated_ms DESC, session_id, seq`;
  let hits = 0;
  for (let offset = 0; ; offset += PAGE) {
    if (options.signal?.aborted === true) return;
    // Paged by OFFSET over a result the server has already narrowed by the index; a search is
    // not a listing, and its pages are short-lived.
    const result = await db.query<HitRow>(`${sql} LIMIT ${PAGE} OFFSET ${offset}`, params);
    for (const row of result.rows) {
      const hit = hitOf(row, matcher);
      if (hit === undefined) continue;
      yield hit;
      if (options.limit !== undefined && ++hits >= options.limit) return;
    }
    if (result.rows.length < PAGE) return;
  }
}

function hitOf(row: HitRow, matcher: ReturnType<typeof makeMatcher>): SearchHit | undefined {
  const value = JSON.parse(row.line) as Record<string, unknown>;
  for (const text of searchableText(value)) {
    const at = matcher.find(text);
    if (at === undefined) continue;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return {
      session: row.session_id,
      title: row.title ?? undefined,
      line: Number(row.seq) + 1,
      offset: 0,
      entryId: str(value['id']),
      type: str(value['type']),
      role: str(value['role']),
      ts: str(value['ts']),
      ...snippetOf(text, at[0], at[1]),
    };
  }
  // The server's regex dialect matched where JavaScript's does not: no snippet to show, so no hit.
  return undefined;
}
