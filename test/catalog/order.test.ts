import { describe, expect, it } from 'vitest';
import { SortedRows } from '../../src/file/catalog/order.js';
import { page, parseQuery, type Row } from '../../src/core/list-query.js';
import { rng } from '../helpers/rng.mjs';

function row(id: string, updatedMs: number, createdMs: number, model?: string): Row {
  return { id, updatedMs, createdMs, title: undefined, model, cwd: undefined, metadata: {} };
}

/** The reference: sort everything, filter, drop up to the cursor, take a page. */
function naive(rows: Iterable<Row>, sort: 'updatedAt' | 'createdAt', order: 'asc' | 'desc'): string[] {
  const key = (r: Row) => (sort === 'updatedAt' ? r.updatedMs : r.createdMs);
  const sign = order === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => (key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) * sign).map((r) => r.id);
}

/** Every page of a listing, walked with the cursor, as one list of ids. */
function walk(sorted: SortedRows, sort: 'updatedAt' | 'createdAt', order: 'asc' | 'desc', limit: number, model?: string): string[] {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const result = page(sorted, parseQuery({ sort, order, limit, cursor, filter: model === undefined ? undefined : { model } }));
    ids.push(...result.rows.map((r) => r.id));
    if (result.nextCursor === undefined) return ids;
    cursor = result.nextCursor;
  }
  throw new Error('the walk did not end');
}

describe('SortedRows and page()', () => {
  it('walks every row exactly once, in order, for both keys and directions, with ties on the key', () => {
    const random = rng(7);
    const rows = new Map<string, Row>();
    // Few distinct times: many ties, which the id must break.
    for (let i = 0; i < 300; i++) {
      const id = `s-${Math.floor(random() * 1e6).toString(36)}-${i}`;
      rows.set(id, row(id, Math.floor(random() * 20), Math.floor(random() * 20), random() < 0.3 ? 'a' : 'b'));
    }
    for (const sort of ['updatedAt', 'createdAt'] as const) {
      const sorted = new SortedRows(sort, rows.values());
      for (const order of ['asc', 'desc'] as const) {
        for (const limit of [1, 7, 50, 1000]) {
          expect(walk(sorted, sort, order, limit)).toEqual(naive(rows.values(), sort, order));
        }
        const onlyA = [...rows.values()].filter((r) => r.model === 'a');
        expect(walk(sorted, sort, order, 9, 'a')).toEqual(naive(onlyA, sort, order));
      }
    }
  });

  it('stays sorted through random updates and removals, like a fresh sort', () => {
    const random = rng(11);
    const rows = new Map<string, Row>();
    for (let i = 0; i < 200; i++) rows.set(`r${i}`, row(`r${i}`, Math.floor(random() * 50), i));
    const sorted = new SortedRows('updatedAt', rows.values());
    for (let step = 0; step < 2000; step++) {
      const id = `r${Math.floor(random() * 260)}`;
      const previous = rows.get(id);
      if (previous !== undefined && random() < 0.2) {
        rows.delete(id);
        sorted.replace(previous, undefined);
      } else {
        const next = row(id, Math.floor(random() * 50), previous?.createdMs ?? step);
        rows.set(id, next);
        sorted.replace(previous, next);
      }
    }
    expect(walk(sorted, 'updatedAt', 'desc', 13)).toEqual(naive(rows.values(), 'updatedAt', 'desc'));
    expect(walk(sorted, 'updatedAt', 'asc', 13)).toEqual(naive(rows.values(), 'updatedAt', 'asc'));
  });

  it('continues after a cursor whose row has since been removed or moved', () => {
    const rows = [row('a', 10, 1), row('b', 20, 2), row('c', 30, 3), row('d', 40, 4)];
    const sorted = new SortedRows('updatedAt', rows);
    const first = page(sorted, parseQuery({ limit: 2 }));
    expect(first.rows.map((r) => r.id)).toEqual(['d', 'c']);
    // c is appended to (moves to the top) and d is deleted before the next page is asked for.
    sorted.replace(rows[2], row('c', 50, 3));
    sorted.replace(rows[3], undefined);
    const next = page(sorted, parseQuery({ limit: 2, cursor: first.nextCursor }));
    expect(next.rows.map((r) => r.id)).toEqual(['b', 'a']);
    expect(next.nextCursor).toBeUndefined();
  });
});
