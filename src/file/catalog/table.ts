/**
 * The catalog's rows in memory: every session's record, the listing row made from it, the rows
 * kept sorted per sort key a listing asked for, and the conflict copies per session. Knows no
 * files and announces nothing: the catalog decides what a change means.
 */
import type { SessionInfo } from '../../core/info.js';
import { type IndexRecord, infoOf } from './fold.js';
import { type SortKey, SortedRows } from './order.js';
import { msOf, type Row } from '../../core/list-query.js';

/** Records, rows and sort orders of the catalog, kept consistent with each other. */
export class CatalogTable {
  readonly #records = new Map<string, IndexRecord>();
  readonly #rows = new Map<string, Row>();
  /** The rows in each sort order a listing asked for, kept sorted as rows change. */
  readonly #orders = new Map<SortKey, SortedRows>();
  /** Conflict copies by the id they belong to, each list sorted. */
  #conflicts = new Map<string, string[]>();

  /** Sessions held. */
  get size(): number {
    return this.#records.size;
  }

  /** Whether the session has a record. */
  has(id: string): boolean {
    return this.#records.has(id);
  }

  /** The session's record (fingerprint, fold state). */
  record(id: string): IndexRecord | undefined {
    return this.#records.get(id);
  }

  /** Every record, for the catalog file. */
  records(): IterableIterator<IndexRecord> {
    return this.#records.values();
  }

  /** Every session id held. */
  ids(): IterableIterator<string> {
    return this.#records.keys();
  }

  /** Stores a record and its row, and moves the row in every sort order. */
  put(record: IndexRecord): void {
    this.#records.set(record.id, record);
    const state = record.state;
    const createdAt = state.header?.createdAt;
    const createdMs = createdAt === undefined ? record.fp.mtimeMs : msOf(createdAt);
    const row: Row = {
      id: record.id,
      createdMs,
      updatedMs: state.updatedAt === undefined ? createdMs : msOf(state.updatedAt),
      title: state.title,
      model: state.model,
      cwd: state.cwd,
      metadata: state.metadata,
    };
    const previous = this.#rows.get(record.id);
    this.#rows.set(record.id, row);
    for (const order of this.#orders.values()) order.replace(previous, row);
  }

  /** Drops a session's record and row from every sort order. */
  remove(id: string): void {
    this.#records.delete(id);
    const previous = this.#rows.get(id);
    this.#rows.delete(id);
    for (const order of this.#orders.values()) order.replace(previous, undefined);
  }

  /** Drops everything (a reindex). */
  clear(): void {
    this.#records.clear();
    this.#rows.clear();
    this.#orders.clear();
  }

  /** The rows sorted by `sort`, sorted once on first use and kept sorted after. */
  ordered(sort: SortKey): SortedRows {
    let order = this.#orders.get(sort);
    if (order === undefined) {
      order = new SortedRows(sort, this.#rows.values());
      this.#orders.set(sort, order);
    }
    return order;
  }

  /** The session's info as `get()` returns it. */
  info(id: string): SessionInfo | undefined {
    const record = this.#records.get(id);
    return record === undefined ? undefined : infoOf(record, this.#conflicts.get(id) ?? []);
  }

  /** The session's conflict copies, sorted. */
  conflictsOf(id: string): readonly string[] {
    return this.#conflicts.get(id) ?? [];
  }

  /** Replaces the conflict lists; returns the ids of sessions (known ones) whose list changed. */
  setConflicts(next: Map<string, string[]>): string[] {
    for (const list of next.values()) list.sort();
    const previous = this.#conflicts;
    this.#conflicts = next;
    const changed: string[] = [];
    for (const id of new Set([...previous.keys(), ...next.keys()])) {
      if (previous.get(id)?.join('\n') !== next.get(id)?.join('\n') && this.#records.has(id)) changed.push(id);
    }
    return changed;
  }

  /** Adds or removes one conflict copy of `id`; returns the ids whose list changed. */
  setConflict(id: string, name: string, exists: boolean): string[] {
    const list = this.#conflicts.get(id) ?? [];
    if (exists === list.includes(name)) return [];
    const next = new Map(this.#conflicts);
    next.set(id, exists ? [...list, name] : list.filter((other) => other !== name));
    if (next.get(id)?.length === 0) next.delete(id);
    return this.setConflicts(next);
  }
}
