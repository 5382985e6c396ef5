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
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { decodeLine, type ProblemKind } from './format/codec.js';
import { classifyLine, type EntryValidator } from './format/records.js';
import { HEADER_TYPE } from './format/schema.js';
import { errnoOf, ioError, SessionStoreError } from './errors.js';
import { sessionPath } from './fs/paths.js';
import { assertValidId } from './ids.js';
import { sessionIds } from './session/resolve.js';
import { closeSyncQuietly, openForReadSync } from './fs/files.js';
import { makeMatcher, type Matcher, snippetOf, searchableText } from './search-text.js';

export { makeMatcher, rawSafe, searchableText, snippetOf } from './search-text.js';


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

/** Bytes read per call: large enough that syscalls are noise next to the scan. */
const CHUNK = 1024 * 1024;
/** The event loop runs at least once per this many bytes read (timers, signals, an abort). */
const YIELD_EVERY = 8 * CHUNK;
const NEWLINE = 0x0a;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Decides whether a line really matches and describes the hit; undefined for no hit. */
function examine(
  bytes: Buffer,
  matcher: Matcher,
  ctx: SearchContext,
): Omit<SearchHit, 'session' | 'title' | 'line' | 'offset'> | undefined {
  const decoded = decodeLine(bytes);
  if (!decoded.ok) {
    if (decoded.blank) return undefined;
    const text = bytes.toString('utf8');
    const at = matcher.find(text);
    if (at === undefined) return undefined;
    return { entryId: undefined, type: undefined, role: undefined, ts: undefined, ...snippetOf(text, at[0], at[1]), problem: decoded.kind };
  }
  const value = decoded.value;
  const type = value['type'] ?? 'message';
  if (type === HEADER_TYPE) return undefined;
  let found: { snippet: string; match: [number, number] } | undefined;
  for (const text of searchableText(value)) {
    const at = matcher.find(text);
    if (at !== undefined) {
      found = snippetOf(text, at[0], at[1]);
      break;
    }
  }
  if (found === undefined) return undefined;
  const classified = classifyLine(decoded, false, ctx.validate);
  if (classified.kind === 'update' || classified.kind === 'blank') return undefined;
  const base = { entryId: str(value['id']), type: str(type), role: str(value['role']), ts: str(value['ts']), ...found };
  return classified.kind === 'problem' ? { ...base, problem: classified.problem } : base;
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let count = 0;
  for (let at = buf.indexOf(NEWLINE, from); at !== -1 && at < to; at = buf.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

function headerTitle(bytes: Buffer): string | undefined {
  const decoded = decodeLine(bytes, true);
  return decoded.ok ? str(decoded.value['title']) : undefined;
}

/**
 * Two read buffers, reused across files: a chunk's unfinished last line is still referenced when
 * the next chunk is read. `sinceYield` counts bytes read since the search last let the event loop run.
 */
interface Buffers {
  readonly pair: [Buffer, Buffer];
  sinceYield: number;
}

/** Hits of one file, in file order. `onBytes` reports bytes consumed. */
async function* searchFile(
  target: SearchTarget,
  matcher: Matcher,
  ctx: SearchContext,
  buffers: Buffers,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
): AsyncGenerator<SearchHit> {
  // Synchronous reads, yielding to the event loop between them every few MiB: a search reads
  // whole files from the page cache, where a thread-pool round trip per 1 MiB read and per open
  // cost more than the read itself (1 GB: 1.1–1.4 s with async reads, 0.85–1.1 s this way).
  const { fd } = openForReadSync(target.file);
  const readAt = (buf: Buffer, position: number): number => {
    try {
      return fs.readSync(fd, buf, 0, buf.length, position);
    } catch (err) {
      throw ioError('read', target.file, err);
    }
  };
  let title: string | undefined;
  let titleResolved = false;
  let lineNo = 1; // number of the next line to finish
  let carry: Buffer[] = []; // the unfinished line, in pieces
  let carryBytes = 0;
  let carryOffset = 0;
  let skipping = false; // inside a line longer than maxLineBytes: not searched

  /** Examines one complete line (`bytes`, at file offset `offset`, number `line`). */
  const lineHit = async (bytes: Buffer, offset: number, line: number): Promise<SearchHit | undefined> => {
    if (offset === 0) {
      title = headerTitle(bytes);
      return undefined;
    }
    const hit = examine(bytes, matcher, ctx);
    if (hit === undefined) return undefined;
    if (!titleResolved) {
      title = ctx.titleOf === undefined ? title : await ctx.titleOf(target.id, title);
      titleResolved = true;
    }
    return { session: target.id, title, line, offset, ...hit };
  };

  /** A line assembled from the carry: searched whole, whatever the scanner would say. */
  const joined = async (tail: Buffer): Promise<SearchHit | undefined> => {
    const bytes = carry.length === 0 ? tail : Buffer.concat([...carry, tail]);
    const offset = carryOffset;
    carry = [];
    carryBytes = 0;
    const line = lineNo++;
    const at = offset === 0 ? 0 : matcher.scanner?.(bytes, 0, bytes.length)(0);
    return at === -1 ? undefined : lineHit(bytes, offset, line);
  };

  let [current, next] = buffers.pair;
  let position = 0;
  try {
    for (;;) {
      if (buffers.sinceYield >= YIELD_EVERY) {
        buffers.sinceYield = 0;
        await yieldToLoop();
      }
      const n = readAt(current, position);
      buffers.sinceYield += n;
      onBytes(n);
      if (n === 0 || signal?.aborted === true) break;
      const base = position;
      position += n;
      const data = current.subarray(0, n);
      let start = 0;
      if (carryBytes > 0 || skipping) {
        const nl = data.indexOf(NEWLINE);
        if (nl === -1) {
          if (!skipping) {
            carry.push(Buffer.from(data));
            carryBytes += n;
            if (carryBytes > ctx.maxLineBytes) {
              carry = [];
              carryBytes = 0;
              skipping = true;
            }
          }
          [current, next] = [next, current];
          continue;
        }
        if (skipping) {
          skipping = false;
          lineNo++;
        } else {
          const hit = await joined(data.subarray(0, nl));
          if (hit !== undefined) yield hit;
        }
        start = nl + 1;
      } else if (base === 0) {
        // The header: its title, never a hit.
        const nl = data.indexOf(NEWLINE);
        if (nl !== -1) {
          title = headerTitle(data.subarray(0, nl));
          lineNo = 2;
          start = nl + 1;
        }
      }
      const last = data.lastIndexOf(NEWLINE);
      const end = last >= start ? last + 1 : start;
      // Complete lines in [start, end): search them, counting lines as we go.
      let counted = start;
      const lineAt = (at: number): number => {
        lineNo += countNewlines(data, counted, at);
        counted = at;
        return lineNo;
      };
      const scan = matcher.scanner?.(data, start, end);
      let at = start;
      while (at < end) {
        let lineStart = at;
        if (scan !== undefined) {
          const candidate = scan(at);
          if (candidate === -1) break;
          lineStart = candidate === 0 ? 0 : Math.max(at, data.lastIndexOf(NEWLINE, candidate - 1) + 1);
        }
        const nl = data.indexOf(NEWLINE, lineStart);
        const lineEnd = nl === -1 || nl >= end ? end - 1 : nl;
        const hit = await lineHit(data.subarray(lineStart, lineEnd), base + lineStart, lineAt(lineStart));
        if (hit !== undefined) yield hit;
        at = lineEnd + 1;
      }
      lineAt(end);
      if (end < n) {
        // The unfinished last line waits for the next chunk.
        carry = [Buffer.from(data.subarray(end))];
        carryBytes = n - end;
        carryOffset = base + end;
      }
      [current, next] = [next, current];
    }
    // A last line without a newline (a torn tail) is searched too.
    if (carryBytes > 0 && signal?.aborted !== true) {
      const hit = await joined(Buffer.alloc(0));
      if (hit !== undefined) yield hit;
    }
  } finally {
    closeSyncQuietly(fd);
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
