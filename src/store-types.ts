/** The public types of the store's methods and events. */
import type { z } from 'zod';
import type { Problem } from './format/codec.js';
import type { EntryInput, EntrySchema } from './format/schema.js';

/** An entry as stored: the schema's output plus the stamps the store guarantees. */
export type StoredEntry<T> = T & { readonly type: string; readonly id: string; readonly ts: string };

type Distribute<T> = T extends unknown ? Omit<T, 'id' | 'ts'> & { id?: string; ts?: string } : never;

/** What `append` accepts for a schema `S`: the schema's input, with `id` and `ts` optional. */
export type AppendInput<S extends z.ZodType> = S extends typeof EntrySchema ? EntryInput : Distribute<z.input<S>>;

/** What `create` accepts. */
export interface CreateInit {
  /** The session id; generated (a UUIDv7, sortable by creation) when absent. */
  readonly id?: string;
  readonly title?: string | undefined;
  readonly model?: string | undefined;
  readonly cwd?: string | undefined;
  readonly metadata?: Record<string, unknown>;
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
