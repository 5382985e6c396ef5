/**
 * Full-text search over session files, streaming hits as they are found.
 *
 * Plain-text search looks for the query's JSON-escaped bytes in large chunks of each file
 * (`Buffer.indexOf`, no decoding), and decodes only the lines that contain them; there it checks
 * that the text is in an entry's text (not in a key or an id) and cuts a snippet. The store writes
 * JSON with `JSON.stringify`, so text is stored as its JSON escape: a line written by another tool
 * that escapes non-ASCII characters as `\uXXXX` is found by `regex: true` only.
 * Regular expressions and case-insensitive search on non-ASCII text decode every line.
 */
import fs from 'node:fs';
import type { SearchHit, SearchOptions } from '../core/types.js';
import type { EntryValidator } from '../format/records.js';
import { errnoOf, ioError, SessionStoreError } from '../core/errors.js';
import { sessionPath } from '../file/fs/paths.js';
import { assertValidId } from '../core/ids.js';
import { sessionIds } from '../file/session/resolve.js';
import { type Buffers, CHUNK, searchFile } from './file-search.js';
import { makeMatcher } from './text.js';

export { makeMatcher, rawSafe, searchableText, snippetOf } from './text.js';

/** A session file to search. */
export interface SearchTarget {
  readonly id: string;
  readonly file: string;
  readonly bytes: number;
}

/** What the search needs from the store. */
export interface SearchContext {
  readonly validate: EntryValidator<unknown>;
  readonly maxLineBytes: number;
  /** The session's current title, given the header's; called once per session with hits. */
  readonly titleOf?: (id: string, headerTitle: string | undefined) => Promise<string | undefined>;
}


/**
 * Checks a search's query and options before anything is read.
 * @throws ERR_INVALID_OPTION (an invalid regex, limit or limitPerSession)
 */
export function checkSearch(query: string, options: SearchOptions): void {
  for (const name of ['limit', 'limitPerSession'] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new SessionStoreError('ERR_INVALID_OPTION', `Expected \`${name}\` to be an integer >= 1, got ${String(value)}.`);
    }
  }
  try {
    makeMatcher(query, options);
  } catch (err) {
    // V8's message already starts with "Invalid regular expression:".
    throw new SessionStoreError('ERR_INVALID_OPTION', `${(err as Error).message}.`, { cause: err });
  }
}

/** Searches `targets` in order, streaming hits. */
export async function* searchTargets(
  targets: readonly SearchTarget[],
  query: string,
  options: SearchOptions,
  ctx: SearchContext,
): AsyncGenerator<SearchHit> {
  const matcher = makeMatcher(query, options);
  const buffers: Buffers = { pair: [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)], sinceYield: 0 };
  const total = targets.reduce((sum, target) => sum + target.bytes, 0);
  let bytesDone = 0;
  let filesDone = 0;
  let hits = 0;
  const progress = (): void => options.onProgress?.({ files: targets.length, filesDone, bytes: total, bytesDone, hits });
  for (const target of targets) {
    if (options.signal?.aborted === true) return;
    let inSession = 0;
    let fileBytes = 0;
    const onBytes = (n: number): void => {
      fileBytes += n;
      bytesDone += n;
      progress();
    };
    try {
      for await (const hit of searchFile(target, matcher, ctx, buffers, onBytes, options.signal)) {
        hits++;
        inSession++;
        yield hit;
        if (options.limit !== undefined && hits >= options.limit) return;
        // Leaving the loop closes the file; its unread bytes still count as done for the progress bar.
        if (options.limitPerSession !== undefined && inSession >= options.limitPerSession) {
          bytesDone += Math.max(0, target.bytes - fileBytes);
          break;
        }
      }
    } catch (err) {
      // A session deleted since the folder was listed is not an error for a search.
      if ((err as { code?: unknown }).code !== 'ERR_SESSION_NOT_FOUND') throw err;
    }
    filesDone++;
    progress();
  }
}

/**
 * The files to search: the named sessions in the order given, or every session in the folder,
 * most recently modified first (a vanished file is skipped unless it was named).
 * @throws ERR_INVALID_ID, ERR_SESSION_NOT_FOUND (a named session), ERR_IO
 */
export async function collectTargets(dir: string, named: readonly string[] | undefined): Promise<SearchTarget[]> {
  const ids = named ?? (await sessionIds(dir));
  const targets: (SearchTarget & { mtimeMs: number })[] = [];
  for (const id of ids) {
    assertValidId(id);
    const file = sessionPath(dir, id);
    // Synchronous, as the reads: one thread-pool round trip per session was a tenth of a search.
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw ioError('stat', file, err);
      if (named !== undefined) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session file at ${file}.`, { path: file, cause: err });
    }
    if (st !== undefined) targets.push({ id, file, bytes: st.size, mtimeMs: st.mtimeMs });
  }
  if (named === undefined) targets.sort((a, b) => b.mtimeMs - a.mtimeMs || a.id.localeCompare(b.id));
  return targets;
}
