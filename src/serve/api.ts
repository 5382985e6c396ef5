/**
 * The viewer's read-only JSON API over any `SessionStore`. Sessions come in pages (the store's
 * cursor), a session's entries in windows counted from its end (the newest first: a 100 MB session
 * opens by reading its tail), rendered to safe HTML on the server (render.ts).
 */
import type { SessionStore } from '../core/contract.js';
import { SessionStoreError } from '../core/errors.js';
import { briefOf } from '../core/info.js';
import type { ListFilter } from '../core/list-options.js';
import { renderEntries, renderProblems } from './render.js';

/** Entries per window of a session. */
export const WINDOW = 200;
/** Search hits per query. */
const MAX_HITS = 200;

/** An answer: a status and a JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const bad = (message: string): Answer => ({ status: 400, body: { error: message } });


/** GET /api/sessions?cursor&limit&cwd&model&title&since: one page, newest first. */
export async function listSessions(store: SessionStore, q: URLSearchParams): Promise<Answer> {
  const filter: { -readonly [K in keyof ListFilter]: ListFilter[K] } = {};
  for (const key of ['cwd', 'model', 'title'] as const) {
    const value = q.get(key);
    if (value !== null && value !== '') filter[key] = value;
  }
  const since = q.get('since');
  if (since !== null && since !== '') {
    if (Number.isNaN(Date.parse(since))) return bad('since: give a date, e.g. 2026-11-01');
    filter.updatedAfter = since;
  }
  const limit = Math.min(Number(q.get('limit') ?? 100) || 100, 500);
  const page = await store.list({ limit, cursor: q.get('cursor') ?? undefined, filter });
  return { status: 200, body: { sessions: page.sessions.map(briefOf), nextCursor: page.nextCursor } };
}

/** GET /api/search?q: entries whose text holds `q` (the store's full-text search), a snippet each. */
export async function searchSessions(store: SessionStore, q: URLSearchParams): Promise<Answer> {
  const query = q.get('q') ?? '';
  if (query.trim() === '') return bad('q: give the text to search for');
  const hits = [];
  for await (const hit of store.search(query, { ignoreCase: true, limit: MAX_HITS, limitPerSession: 20 })) {
    hits.push({ session: hit.session, title: hit.title, entryId: hit.entryId, role: hit.role, ts: hit.ts, snippet: hit.snippet, match: hit.match });
  }
  return { status: 200, body: { hits, more: hits.length === MAX_HITS } };
}

/**
 * GET /api/session/<id>?end=<n>|at=<entry id>: the session's info, its parent and children, and one
 * window of entries as HTML: the `WINDOW` before index `end` (default: the last ones), or those
 * around the entry `at`. `start` says where the window begins, for the next window back.
 */
export async function readSession(store: SessionStore, id: string, q: URLSearchParams): Promise<Answer> {
  const info = await store.get(id);
  if (info === undefined) return { status: 404, body: { error: `no session ${id}` } };
  const total = info.entryCount;
  let end = Math.min(Number(q.get('end') ?? total), total);
  if (!Number.isInteger(end) || end < 0) return bad('end: an entry index');
  const at = q.get('at');
  if (at !== null) {
    let index = 0;
    for await (const entry of store.stream(id)) {
      if (entry.id === at) break;
      index++;
    }
    if (index < total) end = Math.min(total, index + WINDOW / 2);
  }
  const start = Math.max(0, end - WINDOW);
  const { entries, problems } = await store.read(id, { tail: total - start });
  const window = entries.slice(0, end - start);
  return {
    status: 200,
    body: {
      session: briefOf(info),
      metadata: info.metadata,
      usage: info.usage,
      children: await children(store, id),
      start,
      end,
      total,
      lastId: window.at(-1)?.id,
      html: renderEntries(window),
      problems: start === 0 ? renderProblems(problems) : '',
    },
  };
}

/** GET /api/session/<id>/after?id=<entry id>: entries appended after that one (live follow). */
export async function readAfter(store: SessionStore, id: string, q: URLSearchParams): Promise<Answer> {
  const after = q.get('id');
  if (after === null) return bad('id: the last entry id shown');
  try {
    // Usually a few entries came: found in the session's tail, read from the end of the file; only a
    // reader far behind reads from the start.
    const tail = (await store.read(id, { tail: 200 })).entries;
    const at = tail.findIndex((entry) => entry.id === after);
    const entries = at === -1 ? (await store.read(id, { after, limit: 1000 })).entries : tail.slice(at + 1);
    return { status: 200, body: { html: renderEntries(entries), lastId: entries.at(-1)?.id ?? after, count: entries.length } };
  } catch (err) {
    if (err instanceof SessionStoreError && err.code === 'ERR_SESSION_NOT_FOUND') return { status: 404, body: { error: `no session ${id}` } };
    throw err;
  }
}

/** Sessions forked from `id` (subagents, forks), newest first, at most 100. */
async function children(store: SessionStore, id: string): Promise<{ id: string; title: string | undefined }[]> {
  const out: { id: string; title: string | undefined }[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 1000, cursor });
    for (const info of page.sessions) if (info.parent?.id === id && out.length < 100) out.push({ id: info.id, title: info.title });
    cursor = page.nextCursor;
  } while (cursor !== undefined && out.length < 100);
  return out;
}
