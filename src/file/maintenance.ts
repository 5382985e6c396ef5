/**
 * What only a folder of files needs, beyond the {@link SessionStore} contract: a server keeps its
 * rows consistent itself, but files can be torn by a crash, edited by hand or copied by a sync
 * tool. The file backend implements these; no other backend has to.
 */
import type { MergeOptions } from '../core/types.js';
import type { CheckOptions, CheckReport } from '../doctor/doctor.js';
import type { MergeReport } from './rewrite/merge.js';
import type { RedactReport } from './rewrite/redact.js';
import type { RepairReport } from './rewrite/repair.js';

/** The file backend's maintenance calls. */
export interface FileMaintenance {
  /**
   * Checks the whole store folder: torn tails, unreadable lines, duplicate entry ids, headers that
   * name another session, files claiming the same session, conflict copies, orphan temp and lock
   * files, loose permissions. Reads only.
   * @throws ERR_IO
   */
  check(options?: CheckOptions): Promise<CheckReport>;
  /**
   * Rebuilds the index from the session files, reading every one from byte 0 (the index is a
   * cache; this is never needed for correctness). Resolves with the number of sessions.
   */
  reindex(): Promise<number>;
  /**
   * Rewrites a session without the lines the reader skips (torn tail, invalid lines, duplicate
   * ids, a bad header), atomically: temp file (0600), fsync, rename, fsync of the folder. Every
   * removed byte is kept in `<id>.jsonl.recovered-<time>` beside it (0600). Entries buffered by
   * this store are flushed first; entries another process appends meanwhile are kept. A session
   * with nothing to repair is not touched.
   * @throws ERR_SESSION_NOT_FOUND, ERR_UNSUPPORTED_VERSION, ERR_LOCKED (another process is repairing
   *   it, or the file was replaced while it was repaired: run it again), ERR_IO, or the error of a
   *   failed flush
   */
  repair(id: string): Promise<RepairReport>;
  /**
   * Replaces the secrets already in a session by their markers (docs/secrets.md): a rewrite as
   * `repair` is, under the same lock, and the one rewrite that keeps no copy of what it removes.
   * A session with no secret is not touched. With `dryRun`, only reports the lines and kinds.
   * @throws ERR_SESSION_NOT_FOUND, ERR_LOCKED, ERR_IO
   */
  redactSecrets(id: string, options?: { dryRun?: boolean }): Promise<RedactReport>;
  /**
   * Merges the session's sync-conflict copies (`<id>.sync-conflict-….jsonl`, listed in its
   * `conflicts`, plus any `options.copies`) into it: the union of the records of every file by
   * record id, each once, in an order that keeps every copy's own order and does not depend on which
   * copy the sync tool kept as `<id>.jsonl`. Lines that are not valid records (bad lines, torn
   * fragments, a second version of an id) are kept in `<id>.jsonl.recovered-<time>` and reported,
   * never dropped. Rewritten as `repair` does (temp file, fsync, rename, fsync of the folder, under
   * the same lock); then the copies are moved to `<dir>/.trash/`, never deleted. Entries buffered by
   * this store are flushed first; entries appended meanwhile, by this process or another, are kept.
   * A session without copies is not touched (`merged: false`).
   * @example
   * ```ts
   * const info = await store.get(id);
   * if (info?.conflicts.length) console.log(await store.mergeConflicts(id));
   * ```
   * @throws ERR_SESSION_NOT_FOUND (also for a named copy that is not there), ERR_INVALID_OPTION (a
   *   copy whose header names another session, a name that is not a file of the folder),
   *   ERR_UNSUPPORTED_VERSION, ERR_LOCKED (another process is rewriting it, or a file changed while
   *   it was merged: run it again), ERR_IO, or the error of a failed flush
   */
  mergeConflicts(id: string, options?: MergeOptions): Promise<MergeReport>;
}
