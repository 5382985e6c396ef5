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
import { promisify } from 'node:util';
import { decodeLine, type ProblemKind } from './format/codec.js';
import { classifyLine, type EntryValidator } from './format/records.js';
import { HEADER_TYPE } from './format/schema.js';
import { ioError } from './errors.js';
import { closeQuietly, openForRead } from './fs/files.js';

const read = promisify(fs.read);

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
/** Characters of context either side of a hit in a snippet. */
const CONTEXT = 60;
/** Longest hit shown in a snippet (a regex can match a lot). */
const MAX_HIT = 200;
const NEWLINE = 0x0a;
/** Entry fields that are structure, not text: a search for "user" must not hit every user message. */
const STRUCTURAL = new Set(['type', 'id', 'ts', 'role', 'toolCallId', 'parentId', 'firstKeptEntryId', 'usage']);
const PART_STRUCTURAL = new Set(['type', 'id', 'mediaType']);
const MAX_DEPTH = 32;

/** Finds a query in text, and optionally pre-filters raw bytes. */
interface Matcher {
  /**
   * Prepares a raw-byte scan of `buf[start, end)`, returning the function that gives the next
   * candidate position at or after `from` (or -1). Undefined when every line must be decoded.
   */
  readonly scanner: ((buf: Buffer, start: number, end: number) => (from: number) => number) | undefined;
  /** [start, end) of the first hit in `text`, or undefined. */
  find(text: string): readonly [number, number] | undefined;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds the matcher; throws ERR_INVALID_OPTION for an invalid regex or an empty query. */
export function makeMatcher(query: string, options: Pick<SearchOptions, 'regex' | 'ignoreCase'>): Matcher {
  if (options.regex !== true && options.ignoreCase !== true) {
    const needle = Buffer.from(JSON.stringify(query).slice(1, -1));
    return {
      scanner: (buf, _start, end) => (from) => {
        const at = buf.indexOf(needle, from);
        return at === -1 || at + needle.length > end ? -1 : at;
      },
      find: (text) => {
        const at = text.indexOf(query);
        return at === -1 ? undefined : [at, at + query.length];
      },
    };
  }
  const source = options.regex === true ? query : escapeRegex(query);
  const flags = options.ignoreCase === true ? 'iu' : 'u';
  const regex = new RegExp(source, flags);
  // Case-insensitive plain ASCII text: the escaped query can be looked for in the raw bytes.
  // eslint-disable-next-line no-control-regex
  const raw = options.regex !== true && /^[\x20-\x7e]*$/.test(query) ? new RegExp(escapeRegex(JSON.stringify(query).slice(1, -1)), 'gi') : undefined;
  return {
    scanner:
      raw === undefined
        ? undefined
        : (buf, start, end) => {
            // latin1: one character per byte, so string indexes are byte offsets.
            const text = buf.toString('latin1', start, end);
            return (from) => {
              raw.lastIndex = from - start;
              const hit = raw.exec(text);
              return hit === null ? -1 : start + hit.index;
            };
          },
    find: (text) => {
      const hit = regex.exec(text);
      if (hit === null) return undefined;
      // An empty match (e.g. /x*/) still marks the position.
      return [hit.index, hit.index + hit[0].length];
    },
  };
}

function collect(value: unknown, out: string[], depth: number): void {
  if (typeof value === 'string') out.push(value);
  else if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  else if (Array.isArray(value)) for (const item of value) collect(item, out, depth + 1);
  else for (const key of Object.keys(value)) collect((value as Record<string, unknown>)[key], out, depth + 1);
}

/** The text of an entry that search looks at: every string value but the structural fields. */
export function searchableText(entry: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(entry)) {
    if (STRUCTURAL.has(key)) continue;
    const value = entry[key];
    if ((key === 'content' || key === 'toolCalls') && Array.isArray(value)) {
      for (const part of value) {
        if (typeof part !== 'object' || part === null || Array.isArray(part)) collect(part, out, 1);
        else for (const [k, v] of Object.entries(part)) if (!PART_STRUCTURAL.has(k)) collect(v, out, 2);
      }
    } else {
      collect(value, out, 1);
    }
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

function oneLine(text: string): string {
  return text.replace(CONTROL, ' ').replace(/\s+/g, ' ');
}

/** A one-line snippet of `text` around [start, end), with the hit's place in it. */
export function snippetOf(text: string, start: number, end: number): { snippet: string; match: [number, number] } {
  const before = oneLine(text.slice(Math.max(0, start - CONTEXT * 2), start)).slice(-CONTEXT);
  let hit = oneLine(text.slice(start, end));
  if (hit.length > MAX_HIT) hit = `${hit.slice(0, MAX_HIT)}…`;
  const after = oneLine(text.slice(end, end + CONTEXT * 2)).slice(0, CONTEXT);
  const lead = start - before.length > 0 ? '…' : '';
  const trail = end + after.length < text.length ? '…' : '';
  const snippet = lead + before + hit + after + trail;
  const at = lead.length + before.length;
  return { snippet, match: [at, at + hit.length] };
}

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

/** Hits of one file, in file order. `onBytes` reports bytes consumed. */
async function* searchFile(
  target: SearchTarget,
  matcher: Matcher,
  ctx: SearchContext,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
): AsyncGenerator<SearchHit> {
  const { fd } = await openForRead(target.file);
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let end = 0; // valid bytes in buf
    let base = 0; // file offset of buf[0]
    let lineNo = 1; // number of the line starting at buf[0]
    let skipping = false; // inside a line longer than maxLineBytes: not searched
    let title: string | undefined;
    let titleResolved = false;
    let eof = false;
    while (!eof && signal?.aborted !== true) {
      if (end === buf.length) {
        // One line fills the buffer: grow it, or give the line up as oversize.
        if (buf.length <= ctx.maxLineBytes) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, end);
          buf = bigger;
        } else {
          skipping = true;
          base += end;
          end = 0;
        }
      }
      let bytesRead: number;
      try {
        ({ bytesRead } = await read(fd, buf, end, buf.length - end, base + end));
      } catch (err) {
        throw ioError('read', target.file, err);
      }
      onBytes(bytesRead);
      eof = bytesRead === 0;
      end += bytesRead;
      let start = 0;
      if (skipping) {
        const nl = buf.indexOf(NEWLINE, 0);
        if (nl === -1 || nl >= end) {
          base += end;
          end = 0;
          continue;
        }
        skipping = false;
        lineNo++;
        start = nl + 1;
      }
      // Search complete lines only; at the end of the file the torn last line too.
      const lastNl = buf.lastIndexOf(NEWLINE, end - 1);
      const regionEnd = eof ? end : lastNl >= start ? lastNl + 1 : start;
      let countedTo = start;
      const lineAt = (at: number): number => {
        lineNo += countNewlines(buf, countedTo, at);
        countedTo = at;
        return lineNo;
      };
      const report = async (from: number, to: number): Promise<SearchHit | undefined> => {
        const line = lineAt(from);
        if (base + from === 0) {
          title = headerTitle(buf.subarray(from, to));
          return undefined;
        }
        const hit = examine(buf.subarray(from, to), matcher, ctx);
        if (hit === undefined) return undefined;
        if (!titleResolved) {
          title = ctx.titleOf === undefined ? title : await ctx.titleOf(target.id, title);
          titleResolved = true;
        }
        return { session: target.id, title, line, offset: base + from, ...hit };
      };
      if (base === 0 && start === 0 && regionEnd > 0) {
        // The header, for the title.
        const nl = buf.indexOf(NEWLINE, 0);
        await report(0, nl === -1 || nl >= regionEnd ? regionEnd : nl);
      }
      let at = start;
      const scan = matcher.scanner?.(buf, start, regionEnd);
      while (at < regionEnd) {
        let lineStart: number;
        if (scan !== undefined) {
          const candidate = scan(at);
          if (candidate === -1) break;
          lineStart = candidate === 0 ? 0 : Math.max(at, buf.lastIndexOf(NEWLINE, candidate - 1) + 1);
        } else {
          lineStart = at;
        }
        const nl = buf.indexOf(NEWLINE, lineStart);
        const lineEnd = nl === -1 || nl >= regionEnd ? regionEnd : nl;
        if (base + lineStart !== 0) {
          const hit = await report(lineStart, lineEnd);
          if (hit !== undefined) yield hit;
        }
        at = lineEnd + 1;
      }
      lineAt(regionEnd);
      // Keep the incomplete last line for the next read.
      buf.copy(buf, 0, regionEnd, end);
      base += regionEnd;
      end -= regionEnd;
      countedTo = 0;
    }
  } finally {
    await closeQuietly(fd);
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
  const total = targets.reduce((sum, target) => sum + target.bytes, 0);
  let bytesDone = 0;
  let filesDone = 0;
  let hits = 0;
  const progress = (): void => options.onProgress?.({ files: targets.length, filesDone, bytes: total, bytesDone, hits });
  for (const target of targets) {
    if (options.signal?.aborted === true) return;
    try {
      for await (const hit of searchFile(target, matcher, ctx, (n) => ((bytesDone += n), progress()), options.signal)) {
        hits++;
        yield hit;
        if (options.limit !== undefined && hits >= options.limit) return;
      }
    } catch (err) {
      // A session deleted since the folder was listed is not an error for a search.
      if ((err as { code?: unknown }).code !== 'ERR_SESSION_NOT_FOUND') throw err;
    }
    filesDone++;
    progress();
  }
}
