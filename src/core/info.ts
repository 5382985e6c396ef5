/** What a store tells about a session: the same from every backend. */

/** Token usage totals over a session's entries. */
export interface UsageTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** The total the entries reported; when none did, input + output (never 0 beside non-zero counts). */
  total: number;
}

/** `usage` with `total` filled in when no entry reported one. */
export function withTotal(usage: Readonly<UsageTotals>): UsageTotals {
  return { ...usage, total: usage.total > 0 ? usage.total : usage.input + usage.output };
}

/** What `get()` and `list()` return for a session. */
export interface SessionInfo {
  readonly id: string;
  readonly title: string | undefined;
  readonly model: string | undefined;
  readonly cwd: string | undefined;
  /** The header's metadata with every update merged in. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** ISO timestamp from the header. */
  readonly createdAt: string;
  /** ISO timestamp of the latest entry or update (the header's `createdAt` when there is none). */
  readonly updatedAt: string;
  /** Entries `read()` returns (bookkeeping and problem lines excluded). */
  readonly entryCount: number;
  /** Size of the file in bytes. */
  readonly bytes: number;
  readonly usage: Readonly<UsageTotals>;
  /** Lines `read()` skips: torn tail, bad lines, duplicate ids, a bad header. */
  readonly problems: number;
  /** For a fork: the session and entry it was forked from. */
  readonly parent: { readonly id: string; readonly entryId?: string | undefined } | undefined;
  /** Format version of the file's header. */
  readonly version: number;
  /** Written by a newer sessionlog: readable, never written to. */
  readonly readOnly: boolean;
  /** Byte offset of the latest compaction entry, if any (resume reads from there). */
  readonly lastCompactionOffset: number | undefined;
  /**
   * Sync-tool conflict copies of this session (`<id>.sync-conflict-….jsonl` file names in the store
   * folder), sorted. They are never listed as sessions of their own and never deleted by the store.
   */
  readonly conflicts: readonly string[];
}

/** A session in brief, as a listing shows it (the viewer's list, the MCP server's answers). */
export function briefOf(info: SessionInfo) {
  return {
    id: info.id,
    title: info.title,
    model: info.model,
    cwd: info.cwd,
    createdAt: info.createdAt,
    updatedAt: info.updatedAt,
    entries: info.entryCount,
    bytes: info.bytes,
    tokens: info.usage.total > 0 ? info.usage.total : info.usage.input + info.usage.output,
    problems: info.problems,
    parent: info.parent?.id,
  };
}
