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
  // When every match in decoded text is also a match in the raw bytes, the raw bytes can be
  // scanned first: case-insensitive plain ASCII text (looked for as its JSON escape), and
  // regexes that can only match literal ASCII text (see rawSafe).
  const rawFlags = options.ignoreCase === true ? 'gi' : 'g';
  let raw: RegExp | undefined;
  if (options.regex !== true && /^[\x20-\x7e]*$/.test(query)) raw = new RegExp(escapeRegex(JSON.stringify(query).slice(1, -1)), rawFlags);
  else if (options.regex === true && rawSafe(query)) raw = new RegExp(query, rawFlags);
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

/**
 * Whether a regex can only match text the JSON encoder leaves as it is, so that a match in an
 * entry's decoded text is also a match in the line's raw bytes: printable ASCII, no `"` or `\\`,
 * no `.`, negated or ranged classes, `\\s`-like classes, anchors, word boundaries or lookarounds
 * (those can match or depend on characters JSON escapes, like a newline). Conservative: a regex
 * that fails this is still searched, by decoding every line.
 */
export function rawSafe(source: string): boolean {
  if (!/^[\x20-\x7e]*$/.test(source)) return false;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if ('sSwWdDbBntrfvuxc0pPk\\"'.includes(next) && !(next === 'd' || next === 'w')) return false;
      i++;
      continue;
    }
    if (ch === '"') return false;
    if (inClass) {
      // A range is safe between letters or digits ([a-z], [0-9]); `[ -~]` would take in `"` and `\\`.
      const alnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
      if (ch === '-' && source[i - 1] !== '[' && source[i + 1] !== ']' && !(alnum(source[i - 1]) && alnum(source[i + 1]))) return false;
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      if (source[i + 1] === '^') return false;
      inClass = true;
    } else if (ch === '.' || ch === '^' || ch === '$') {
      return false;
    } else if (ch === '(' && source[i + 1] === '?' && source[i + 2] !== ':') {
      return false;
    }
  }
  return true;
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

/** Two read buffers, reused across files: one is scanned while the next read fills the other. */
interface Buffers {
  readonly pair: [Buffer, Buffer];
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
  const { fd } = await openForRead(target.file);
  const readAt = async (buf: Buffer, position: number): Promise<number> => {
    try {
      return (await read(fd, buf, 0, buf.length, position)).bytesRead;
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
  let pending = readAt(current, 0);
  try {
    for (;;) {
      const n = await pending;
      onBytes(n);
      if (n === 0 || signal?.aborted === true) break;
      const base = position;
      position += n;
      // Read the next chunk while this one is scanned.
      pending = readAt(next, position);
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
    // The read in flight must finish before its buffer is reused and its fd closed.
    await pending.catch(() => 0);
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
  const buffers: Buffers = { pair: [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] };
  const total = targets.reduce((sum, target) => sum + target.bytes, 0);
  let bytesDone = 0;
  let filesDone = 0;
  let hits = 0;
  const progress = (): void => options.onProgress?.({ files: targets.length, filesDone, bytes: total, bytesDone, hits });
  for (const target of targets) {
    if (options.signal?.aborted === true) return;
    try {
      for await (const hit of searchFile(target, matcher, ctx, buffers, (n) => ((bytesDone += n), progress()), options.signal)) {
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
