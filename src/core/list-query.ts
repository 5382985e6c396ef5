/**
 * `list()` for every backend: validation of options, filters, the sort order and the keyset
 * cursor. Pure: it sees rows, never files or SQL.
 */
import { SessionStoreError } from './errors.js';
import type { ListFilter, ListOptions } from './list-options.js';

/** The field a listing sorts by. */
export type SortKey = 'updatedAt' | 'createdAt';

/** The sort-key value of a row. */
export function keyOf(sort: SortKey): (row: Row) => number {
  return sort === 'updatedAt' ? (row) => row.updatedMs : (row) => row.createdMs;
}

/** What {@link page} needs of the rows: those after a position, in order. */
export interface OrderedRows {
  after(descending: boolean, position: { readonly t: number; readonly i: string } | undefined): Iterable<Row>;
}

/** Sessions per page when `limit` is not given. */
export const DEFAULT_LIMIT = 50;
/** Largest page; a larger `limit` is lowered to it. */
export const MAX_LIMIT = 1000;

/** What a query needs of a session, precomputed once per index change. */
export interface Row {
  readonly id: string;
  readonly createdMs: number;
  readonly updatedMs: number;
  readonly title: string | undefined;
  readonly model: string | undefined;
  readonly cwd: string | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
}

type Order = 'asc' | 'desc';

/** A position in one ordering: the sort key's value and the id of the last row returned. */
export interface Cursor {
  readonly s: SortKey;
  readonly o: Order;
  readonly t: number;
  readonly i: string;
}

/** One page of rows, and the cursor of the next page when there is one. */
export interface PageResult {
  readonly rows: Row[];
  readonly nextCursor: string | undefined;
}

/** A validated query. */
export interface Query {
  readonly limit: number;
  readonly sort: SortKey;
  readonly order: Order;
  readonly after: Cursor | undefined;
  readonly match: (row: Row) => boolean;
}

function invalid(message: string): SessionStoreError {
  return new SessionStoreError('ERR_INVALID_OPTION', message);
}

/** Parses a timestamp option (ISO string or Date) into ms. */
function time(name: string, value: string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(`Expected \`filter.${name}\` to be an ISO timestamp or a Date, got ${JSON.stringify(String(value)).slice(0, 60)}.`);
  return ms;
}

/** ms since the epoch of an ISO timestamp; an unparsable one sorts first (as the epoch). */
export function msOf(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Validates `options` into a {@link Query}. @throws ERR_INVALID_OPTION */
export function parseQuery(options: ListOptions = {}): Query {
  if (typeof options !== 'object' || options === null) throw invalid('Expected list options to be an object.');
  const { limit = DEFAULT_LIMIT, sort = 'updatedAt', order = 'desc', cursor } = options;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw invalid(`Expected \`limit\` to be an integer >= 1 (at most ${MAX_LIMIT} are returned), got ${String(limit)}.`);
  }
  if (sort !== 'updatedAt' && sort !== 'createdAt') throw invalid(`Expected \`sort\` to be 'updatedAt' or 'createdAt', got ${String(sort)}.`);
  if (order !== 'asc' && order !== 'desc') throw invalid(`Expected \`order\` to be 'asc' or 'desc', got ${String(order)}.`);
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (after !== undefined && (after.s !== sort || after.o !== order)) {
    throw invalid(`This cursor belongs to a listing sorted by ${after.s} ${after.o}; pass the same sort and order, or start again without a cursor.`);
  }
  return { limit: Math.min(limit, MAX_LIMIT), sort, order, after, match: matcher(options.filter) };
}

/** The filter as a predicate; every condition given must hold. */
function matcher(filter: ListFilter | undefined): (row: Row) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter !== 'object' || filter === null) throw invalid('Expected `filter` to be an object.');
  const createdAfter = time('createdAfter', filter.createdAfter);
  const createdBefore = time('createdBefore', filter.createdBefore);
  const updatedAfter = time('updatedAfter', filter.updatedAfter);
  const updatedBefore = time('updatedBefore', filter.updatedBefore);
  for (const key of ['model', 'cwd', 'title'] as const) {
    const value = filter[key];
    if (value !== undefined && typeof value !== 'string') throw invalid(`Expected \`filter.${key}\` to be a string, got ${typeof value}.`);
  }
  const { model, cwd, metadata } = filter;
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw invalid('Expected `filter.metadata` to be a plain object.');
  }
  const wanted = metadata === undefined ? [] : Object.keys(metadata).map((key) => [key, metadata[key]] as const);
  const title = filter.title?.toLowerCase();
  return (row) =>
    (createdAfter === undefined || row.createdMs >= createdAfter) &&
    (createdBefore === undefined || row.createdMs < createdBefore) &&
    (updatedAfter === undefined || row.updatedMs >= updatedAfter) &&
    (updatedBefore === undefined || row.updatedMs < updatedBefore) &&
    (model === undefined || row.model === model) &&
    (cwd === undefined || row.cwd === cwd) &&
    (title === undefined || (row.title !== undefined && row.title.toLowerCase().includes(title))) &&
    wanted.every(([key, value]) => Object.hasOwn(row.metadata, key) && jsonEqual(row.metadata[key], value));
}

/** Equality of JSON values (key order of objects does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((key) => Object.hasOwn(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

/**
 * The page: rows matching the filter that come after the cursor in the order (sort key, then id,
 * both in the chosen direction), and the cursor of its last row when more follow. Keyset paging:
 * a row is placed by its own values, so inserts and removals elsewhere never shift a page.
 */
export function page(rows: OrderedRows, query: Query): PageResult {
  const taken: Row[] = [];
  let more = false;
  for (const row of rows.after(query.order === 'desc', query.after)) {
    if (!query.match(row)) continue;
    if (taken.length === query.limit) {
      more = true;
      break;
    }
    taken.push(row);
  }
  const last = taken[taken.length - 1];
  const nextCursor = more && last !== undefined ? encodeCursor({ s: query.sort, o: query.order, t: keyOf(query.sort)(last), i: last.id }) : undefined;
  return { rows: taken, nextCursor };
}

/** The opaque cursor of a position in one ordering (the same format on every backend). */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([1, cursor.s, cursor.o, cursor.t, cursor.i])).toString('base64url');
}

function decodeCursor(text: unknown): Cursor {
  const bad = invalid('Invalid `cursor`: pass the `nextCursor` of a previous page unchanged.');
  if (typeof text !== 'string' || text.length > 1024) throw bad;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (!Array.isArray(value) || value.length !== 5 || value[0] !== 1) throw bad;
  const [, s, o, t, i] = value as unknown[];
  if ((s !== 'updatedAt' && s !== 'createdAt') || (o !== 'asc' && o !== 'desc') || typeof t !== 'number' || !Number.isFinite(t) || typeof i !== 'string') {
    throw bad;
  }
  return { s, o, t, i };
}
