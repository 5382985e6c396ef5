/**
 * A session's row and how appended records change it: the same fold as the file backend's summary
 * (entries counted, usage summed, updates folded over the header, `updatedAt` the greatest
 * timestamp), done once per flush inside its transaction instead of per read.
 */
import { type SessionInfo, type UsageTotals, withTotal } from '../core/info.js';

/** Columns of `sessionlog_sessions` that the fold changes or `get()` returns. */
export interface SessionRow {
  id: string;
  header: string;
  created_iso: string;
  updated_iso: string | null;
  title: string | null;
  model: string | null;
  cwd: string | null;
  metadata: Record<string, unknown>;
  parent_id: string | null;
  parent_entry_id: string | null;
  version: number;
  entry_count: string | number;
  bytes: string | number;
  usage_input: number;
  usage_output: number;
  usage_cache_read: number;
  usage_cache_write: number;
  usage_total: number;
  last_seq: string | number;
  last_compaction_seq: string | number | null;
}

type UsageColumn = 'usage_input' | 'usage_output' | 'usage_cache_read' | 'usage_cache_write' | 'usage_total';

/** The columns `get()` and `list()` select. */
export const ROW_COLUMNS =
  'id, header, created_iso, updated_iso, title, model, cwd, metadata, parent_id, parent_entry_id, version, entry_count, bytes, usage_input, usage_output, usage_cache_read, usage_cache_write, usage_total, last_seq, last_compaction_seq';

const USAGE: readonly (readonly [keyof UsageTotals, UsageColumn])[] = [
  ['input', 'usage_input'],
  ['output', 'usage_output'],
  ['cacheRead', 'usage_cache_read'],
  ['cacheWrite', 'usage_cache_write'],
  ['total', 'usage_total'],
];

/** One record as it is inserted: its line, parsed, and its sequence number. */
export interface InsertedRecord {
  readonly seq: number;
  readonly value: Record<string, unknown>;
  readonly bytes: number;
  readonly isUpdate: boolean;
}

/** Folds inserted records, in order, into the row (mutated). */
export function foldRecords(row: SessionRow, records: readonly InsertedRecord[]): void {
  const metadata: Record<string, unknown> = { ...row.metadata };
  for (const { seq, value, bytes, isUpdate } of records) {
    row.bytes = Number(row.bytes) + bytes;
    const ts = typeof value['ts'] === 'string' ? value['ts'] : undefined;
    if (ts !== undefined && (row.updated_iso === null || ts > row.updated_iso)) row.updated_iso = ts;
    if (isUpdate) {
      for (const key of ['title', 'model', 'cwd'] as const) {
        if (value[key] !== undefined) row[key] = typeof value[key] === 'string' ? value[key] : null;
      }
      const patch = value['metadata'];
      if (typeof patch === 'object' && patch !== null) {
        for (const [key, v] of Object.entries(patch)) {
          if (v === null) delete metadata[key];
          else metadata[key] = v;
        }
      }
      continue;
    }
    row.entry_count = Number(row.entry_count) + 1;
    if (value['type'] === 'compaction') row.last_compaction_seq = seq;
    const usage = value['usage'];
    if (typeof usage === 'object' && usage !== null) {
      for (const [key, column] of USAGE) {
        const n = (usage as Record<string, unknown>)[key];
        if (typeof n === 'number' && Number.isFinite(n)) row[column] += n;
      }
    }
  }
  row.metadata = metadata;
}

/** The row as the contract's {@link SessionInfo}. */
export function infoOf(row: SessionRow): SessionInfo {
  return {
    id: row.id,
    title: row.title ?? undefined,
    model: row.model ?? undefined,
    cwd: row.cwd ?? undefined,
    metadata: row.metadata,
    createdAt: row.created_iso,
    updatedAt: row.updated_iso ?? row.created_iso,
    entryCount: Number(row.entry_count),
    bytes: Number(row.bytes),
    usage: withTotal({
      input: row.usage_input,
      output: row.usage_output,
      cacheRead: row.usage_cache_read,
      cacheWrite: row.usage_cache_write,
      total: row.usage_total,
    }),
    problems: 0,
    parent: row.parent_id === null ? undefined : row.parent_entry_id === null ? { id: row.parent_id } : { id: row.parent_id, entryId: row.parent_entry_id },
    version: row.version,
    readOnly: false,
    lastCompactionOffset: row.last_compaction_seq === null ? undefined : Number(row.last_compaction_seq),
    conflicts: [],
  };
}
