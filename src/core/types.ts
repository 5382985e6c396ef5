/** The public types of the store's methods and events. */
import type { z } from 'zod';
import type { Problem, ProblemKind } from '../format/codec.js';
import type { EntryInput, EntrySchema } from '../format/schema.js';

/** An entry as stored: the schema's output plus the stamps the store guarantees. */
export type StoredEntry<T> = T & { readonly type: string; readonly id: string; readonly ts: string };

/**
 * `T` without `id` and `ts`, which become optional. A key-remapping mapped type, not `Omit`: on a
 * loose object (an index signature beside its known keys) `Omit` keeps only the index signature,
 * and every object would type-check.
 */
type Stampable<T> = T extends unknown ? { [K in keyof T as K extends 'id' | 'ts' ? never : K]: T[K] } & { id?: string; ts?: string } : never;

/** What `append` accepts for a schema `S`: the schema's input, with `id` and `ts` optional. */
export type AppendInput<S extends z.ZodType> = S extends typeof EntrySchema ? EntryInput : Stampable<z.input<S>>;

/** What `create` accepts. */
export interface CreateInit {
  /** The session id; generated (a UUIDv7, sortable by creation) when absent. */
  readonly id?: string;
  readonly title?: string | undefined;
  readonly model?: string | undefined;
  readonly cwd?: string | undefined;
  readonly metadata?: Record<string, unknown>;
  /**
   * When the session began (ISO timestamp); default now. For sessions brought in from elsewhere
   * (`push` / `pull`, importers) so they keep their own time.
   */
  readonly createdAt?: string;
  /** The session this one was forked from, as `fork` records it; for copies of forks. */
  readonly parent?: { readonly id: string; readonly entryId?: string | undefined };
}

/** What `update` accepts: `title` / `model` / `cwd` replace (null clears); `metadata` merges (a null value removes the key). */
export interface SessionPatch {
  readonly title?: string | null;
  readonly model?: string | null;
  readonly cwd?: string | null;
  readonly metadata?: Record<string, unknown>;
}

/** Options of `fork`. */
export interface ForkOptions {
  /** Copy entries up to and including the entry with this id (default: all). */
  readonly at?: string;
  /** Title of the fork (default: the parent's). */
  readonly title?: string;
  /** Id of the fork (default: generated). */
  readonly id?: string;
}

/** Options of `mergeConflicts`. */
export interface MergeOptions {
  /**
   * More copies to merge, as file names in the store folder: those of sync tools whose conflict
   * copies the store does not recognise by name (Dropbox's `<id> (… conflicted copy …).jsonl`,
   * Nextcloud's `<id> (conflicted copy …).jsonl`). Syncthing's `<id>.sync-conflict-….jsonl` are
   * always included.
   * @default []
   */
  readonly copies?: readonly string[];
}

/** Options of `stream`. */
export interface StreamOptions {
  /** Called for each line that is skipped (position and kind, never content). */
  readonly onProblem?: (problem: Problem) => void;
}

/** A `change` event. */
export interface ChangeEvent {
  readonly id: string;
  readonly kind: 'created' | 'changed' | 'deleted';
  readonly source: 'local' | 'external';
}

/** A `warning` event: something unusual was handled, nothing was lost. */
export interface WarningEvent {
  readonly code: string;
  readonly message: string;
  readonly id?: string;
}

/** Names of the events a store emits. */
export const StoreEvents = {
  /** {@link ChangeEvent}: a session was created, written to, or deleted. */
  CHANGE: 'change',
  /** {@link WarningEvent}. Without a listener, each code is reported once through `process.emitWarning`. */
  WARNING: 'warning',
  /** `(error: SessionStoreError, id: string)`: a background flush failed; the entries stay buffered. */
  WRITE_ERROR: 'writeError',
} as const;

/** Options of `read()`. */
export interface ReadOptions {
  /** At most this many entries. */
  readonly limit?: number;
  /** Only entries after the entry with this id (paging: pass the last id of the previous page). */
  readonly after?: string;
  /** Only the last `tail` entries, read from the end of the file. */
  readonly tail?: number;
  /** Only the latest compaction entry and everything after it, read from the end of the file. */
  readonly fromCompaction?: boolean;
}

/** The result of `read()`. */
export interface ReadResult<T> {
  readonly entries: T[];
  /** Lines that were skipped, in file order: position and kind, never content. */
  readonly problems: Problem[];
  /** With `limit`: more entries follow the last one returned. */
  readonly hasMore: boolean;
}

/** Options of `follow()`. */
export interface FollowOptions {
  /**
   * Start with the last `tail` entries already in the session.
   * @default 0
   */
  readonly tail?: number;
  /** Ends the iteration (normally, without an error) when aborted. */
  readonly signal?: AbortSignal;
  /** Called for each problem line met (position and kind, never content). */
  readonly onProblem?: (problem: Problem) => void;
  /**
   * Also look at the file this often, for changes no event reported.
   * @default 1000 when the store watches its folder, else 200
   */
  readonly pollIntervalMs?: number;
}

/** Options of `search()`. */
export interface SearchOptions {
  /**
   * Treat the query as a JavaScript regular expression (without slashes or flags).
   * @default false
   */
  readonly regex?: boolean;
  /** @default false */
  readonly ignoreCase?: boolean;
  /** Only these session ids. @default every session in the store, most recently modified first */
  readonly sessions?: readonly string[];
  /** Stop after this many hits. */
  readonly limit?: number;
  /**
   * At most this many hits per session: the rest of a session is not read once it is reached
   * (`1` is `grep -l`: which sessions match).
   */
  readonly limitPerSession?: number;
  /** Stops the search; the iteration then ends without an error. */
  readonly signal?: AbortSignal;
  /** Called as the search advances (for a progress bar). */
  readonly onProgress?: (progress: SearchProgress) => void;
}

/** How far a search has got. */
export interface SearchProgress {
  readonly files: number;
  readonly filesDone: number;
  readonly bytes: number;
  readonly bytesDone: number;
  readonly hits: number;
}

/** One line that matched. */
export interface SearchHit {
  readonly session: string;
  /** The session's title (from its header, with later title updates when the store knows them). */
  readonly title: string | undefined;
  /** Line number in the session file, from 1 (the header is line 1). */
  readonly line: number;
  /** Byte offset of the line. */
  readonly offset: number;
  readonly entryId: string | undefined;
  /** The entry's type (`message`, `compaction`, …). */
  readonly type: string | undefined;
  readonly role: string | undefined;
  readonly ts: string | undefined;
  /** The matching text on one line, whitespace collapsed, about 60 characters either side of the hit. */
  readonly snippet: string;
  /** Where the hit is in `snippet`: [start, end) in UTF-16 code units. */
  readonly match: readonly [number, number];
  /** Set when the line is one the reader skips (invalid JSON, schema, …): the snippet is from its raw text. */
  readonly problem?: ProblemKind;
}
