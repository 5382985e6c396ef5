/** What a merge of sync-conflict copies is given and what it reports (src/file/rewrite/merge.ts). */
import type { ProblemKind } from '../../format/codec.js';
import type { RewriteBase } from './rewrite.js';

/** Why a line was kept in the recovery file instead of the merged session. */
export type MergeProblemKind = ProblemKind | 'header-id-mismatch' | 'diverged' | 'other-header';

/** A line of the session file or of a copy that is not in the merged session: where it was and why, never its content. */
export interface MergeProblem {
  /** The file it was in (the session file or a copy), where it was when the merge began. */
  readonly file: string;
  /** Line number in that file, from 1. */
  readonly line: number;
  /** Byte offset in that file. */
  readonly offset: number;
  /** Length in bytes, without the newline. */
  readonly length: number;
  /**
   * A reader problem (torn tail, invalid JSON, schema, …); `header-id-mismatch`: the session file's
   * header names another session; `diverged`: a second version of a record whose id is in the merged
   * session with other bytes; `other-header`: a different header for this session id.
   */
  readonly kind: MergeProblemKind;
  readonly message: string;
}

/** One conflict copy and what the merge took from it. */
export interface MergedCopy {
  /** Where the copy was. */
  readonly file: string;
  /** Records (entries and updates) read from it. */
  readonly records: number;
  /** Of those, how many the session file did not have. */
  readonly added: number;
  /** Where the copy is now: the store's trash folder (`<dir>/.trash/<its name>`). */
  readonly movedTo: string | undefined;
}

/** What `mergeConflicts()` did. */
export interface MergeReport {
  readonly id: string;
  readonly file: string;
  /** False when the session had no conflict copies: nothing was touched. */
  readonly merged: boolean;
  /** The copies merged, sorted by name. */
  readonly copies: readonly MergedCopy[];
  /** Entries in the merged session (what `read()` returns). */
  readonly entries: number;
  /** Bookkeeping records (title, metadata updates) in the merged session. */
  readonly updates: number;
  /** Records the session file lacked that came from the copies. */
  readonly added: number;
  /** Lines found in several files (or twice in one), byte for byte, and written once. */
  readonly duplicates: number;
  /** Whitespace-only lines, which carry nothing and are not written. */
  readonly blankLines: number;
  /** Lines kept in the recovery file, in file order (session file first). */
  readonly problems: readonly MergeProblem[];
  /** Where the problem lines are: each once (identical lines in several files once), each followed by a newline. */
  readonly recoveryFile: string | undefined;
  /** Bytes written to the recovery file. */
  readonly recoveredBytes: number;
  /** No file had a usable header for this session: a fresh one was written. */
  readonly headerRewritten: boolean;
  /** Size of the session file before, and of the merged file after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** What a merge needs besides the files. */
export interface MergePlan extends RewriteBase {
  /** The store folder (the copies are moved to its trash). */
  readonly dir: string;
  /** The conflict copies, absolute paths in the store folder (see `conflictCopies`). */
  readonly copies: readonly string[];
}
