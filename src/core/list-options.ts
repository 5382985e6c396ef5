/** The shapes of `list()` and `latest()`: options, filter and page. */
import type { SessionInfo } from './info.js';

/** Filters of `list()` / `latest()`; all given conditions must hold. Timestamps are ISO strings or Dates. */
export interface ListFilter {
  /** Created at or after this time. */
  readonly createdAfter?: string | Date;
  /** Created before this time. */
  readonly createdBefore?: string | Date;
  /** Last updated at or after this time. */
  readonly updatedAfter?: string | Date;
  /** Last updated before this time. */
  readonly updatedBefore?: string | Date;
  /** Exact model name. */
  readonly model?: string;
  /** Exact working directory (the "continue in this folder" of a CLI assistant). */
  readonly cwd?: string;
  /** Every key given must be present in the session's metadata with an equal (JSON) value. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Case-insensitive substring of the title. */
  readonly title?: string;
}

/** Options of `list()`. */
export interface ListOptions {
  /**
   * Sessions per page: an integer >= 1; a value above 1000 (`MAX_LIMIT`) is lowered to 1000.
   * @default 50
   */
  readonly limit?: number;
  /**
   * The `nextCursor` of the previous page, unchanged, with the same `sort` and `order`. Opaque and
   * keyset based (sort key + id): sessions whose sort key does not change are returned exactly once
   * while others are created, updated or deleted (docs/listing.md).
   */
  readonly cursor?: string | undefined;
  /** @default 'updatedAt' */
  readonly sort?: 'updatedAt' | 'createdAt';
  /** @default 'desc' (newest first) */
  readonly order?: 'asc' | 'desc';
  readonly filter?: ListFilter | undefined;
}

/** One page of `list()`. */
export interface ListPage {
  readonly sessions: SessionInfo[];
  /** Pass as `cursor` for the next page; undefined on the last page. */
  readonly nextCursor: string | undefined;
}
