/**
 * Reading a session: entries in order with a report of the lines that could not be used. Streams
 * by bytes; `tail` and `fromCompaction` read from the end and never parse the whole file. Reading
 * never changes a byte.
 */
import type { ReadOptions, ReadResult } from '../../core/types.js';
import { decodeLine, type Problem } from '../../format/codec.js';
import { classifyLine, type EntryValidator } from '../../format/records.js';
import { scanBackward, scanForwardChunks, type ScannedLine } from './scan.js';



/** What a reader needs besides the file. */
export interface ReaderContext<T> {
  readonly validate: EntryValidator<T>;
  readonly maxLineBytes: number;
}

/** One usable event from a session file, or a problem line. */
export type SessionLine<T> =
  | {
      readonly kind: 'entry';
      readonly entry: T;
      readonly id: string | undefined;
      readonly offset: number;
      /** The line's bytes as on disk; valid only until the next iteration. */
      readonly raw: Buffer;
    }
  | { readonly kind: 'problem'; readonly problem: Problem }
  | { readonly kind: 'other' };

const OTHER = { kind: 'other' } as const;
const DUPLICATE = 'entry id already seen earlier in the file; skipped (a copied line?)';

function problemAt(scanned: ScannedLine, kind: Problem['kind'], message: string): Problem {
  return scanned.line === undefined
    ? { offset: scanned.offset, kind, message }
    : { line: scanned.line, offset: scanned.offset, kind, message };
}

/** Interprets one scanned line that is not line 1. `seen` deduplicates entry ids. */
export function interpret<T>(scanned: ScannedLine, ctx: ReaderContext<T>, seen: Set<string>): SessionLine<T> {
  if (scanned.torn) {
    return {
      kind: 'problem',
      problem: problemAt(scanned, 'torn-tail', `last ${scanned.length} bytes have no newline (an interrupted write?)`),
    };
  }
  if (scanned.oversize) {
    return {
      kind: 'problem',
      problem: problemAt(scanned, 'oversize', `line of ${scanned.length} bytes exceeds maxEntryBytes`),
    };
  }
  const classified = classifyLine(decodeLine(scanned.bytes, false), false, ctx.validate);
  switch (classified.kind) {
    case 'entry':
      if (classified.id !== undefined) {
        if (seen.has(classified.id)) {
          return {
            kind: 'problem',
            problem: problemAt(scanned, 'duplicate-id', DUPLICATE),
          };
        }
        seen.add(classified.id);
      }
      return { kind: 'entry', entry: classified.entry, id: classified.id, offset: scanned.offset, raw: scanned.bytes };
    case 'problem':
      return { kind: 'problem', problem: problemAt(scanned, classified.problem, classified.message) };
    default:
      return OTHER;
  }
}

/** Checks line 1; returns a problem when it is not a usable header. */
export function headerProblem(scanned: ScannedLine): Problem | undefined {
  if (scanned.length === 0 && scanned.torn) return problemAt(scanned, 'bad-header', 'the file is empty: no session header');
  if (scanned.torn || scanned.oversize) {
    return problemAt(scanned, 'bad-header', 'line 1 is incomplete or oversize, not a session header');
  }
  const classified = classifyLine(decodeLine(scanned.bytes, true), true, () => ({ ok: false, message: '' }));
  if (classified.kind === 'header') return undefined;
  if (classified.kind === 'problem') return problemAt(scanned, 'bad-header', classified.message);
  return problemAt(scanned, 'bad-header', 'line 1 is blank, not a session header');
}

/** Every entry and problem of a session, forwards, in bounded memory. */
export async function* readLines<T>(file: string, ctx: ReaderContext<T>): AsyncGenerator<SessionLine<T>> {
  for await (const items of readLineChunks(file, ctx)) {
    for (const item of items) yield item;
  }
}

/** As {@link readLines}, one array per chunk read (an await per chunk, not per line). */
export async function* readLineChunks<T>(file: string, ctx: ReaderContext<T>): AsyncGenerator<SessionLine<T>[]> {
  const seen = new Set<string>();
  for await (const chunk of scanForwardChunks(file, { maxLineBytes: ctx.maxLineBytes })) {
    const items: SessionLine<T>[] = [];
    for (const scanned of chunk) {
      if (scanned.line === 1) {
        const problem = headerProblem(scanned);
        if (problem !== undefined) items.push({ kind: 'problem', problem });
        continue;
      }
      items.push(interpret(scanned, ctx, seen));
    }
    yield items;
  }
}

/** Reads a session as `read()` does, dispatching to the backward readers for `tail` / `fromCompaction`. */
export async function readSession<T>(file: string, ctx: ReaderContext<T>, options: ReadOptions = {}): Promise<ReadResult<T>> {
  if (options.fromCompaction === true) {
    const fromEnd = await readFromCompaction(file, ctx);
    if (fromEnd !== undefined) return page(fromEnd, options);
  } else if (options.tail !== undefined) {
    return page(await readTail(file, ctx, options.tail), options);
  }
  const entries: T[] = [];
  const problems: Problem[] = [];
  let started = options.after === undefined;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let hasMore = false;
  read: for await (const items of readLineChunks(file, ctx)) {
    for (const item of items) {
      if (item.kind === 'problem') problems.push(item.problem);
      if (item.kind !== 'entry') continue;
      if (!started) {
        started = item.id === options.after;
        continue;
      }
      if (entries.length >= limit) {
        hasMore = true;
        break read;
      }
      entries.push(item.entry);
    }
  }
  return { entries, problems, hasMore };
}

/** Applies `after` / `limit` to entries already read from the end. */
function page<T>(result: Collected<T>, options: ReadOptions): ReadResult<T> {
  let items = result.entries;
  if (options.after !== undefined) {
    const at = items.findIndex((item) => item.id === options.after);
    items = at === -1 ? [] : items.slice(at + 1);
  }
  const limit = options.limit ?? items.length;
  return {
    entries: items.slice(0, limit).map((item) => item.entry),
    problems: result.problems,
    hasMore: items.length > limit,
  };
}

interface Collected<T> {
  entries: { entry: T; id: string | undefined; offset: number }[];
  problems: Problem[];
}

/**
 * Collects entries from the end until `stop` says the collected window is complete. Returns the
 * window in file order and whether the whole file was consumed.
 */
async function collectBackward<T>(
  file: string,
  ctx: ReaderContext<T>,
  stop: (entry: T, count: number) => boolean,
): Promise<Collected<T> & { exhausted: boolean }> {
  const entries: ({ entry: T; id: string | undefined; offset: number } | undefined)[] = [];
  const problems: Problem[] = [];
  // Reading backwards sees a duplicate's later copy first; as a forward read does, keep the earliest.
  const byId = new Map<string, number>();
  let exhausted = true;
  let kept = 0;
  for await (const scanned of scanBackward(file, ctx.maxLineBytes)) {
    if (scanned.offset === 0) {
      const problem = headerProblem(scanned);
      if (problem !== undefined) problems.push(problem);
      break;
    }
    const item = interpret(scanned, ctx, new Set());
    if (item.kind === 'problem') problems.push(item.problem);
    if (item.kind !== 'entry') continue;
    if (item.id !== undefined) {
      const later = byId.get(item.id);
      const laterCopy = later === undefined ? undefined : entries[later];
      if (later !== undefined && laterCopy !== undefined) {
        problems.push({ offset: laterCopy.offset, kind: 'duplicate-id', message: DUPLICATE });
        entries[later] = undefined;
        kept--;
      }
      byId.set(item.id, entries.length);
    }
    entries.push({ entry: item.entry, id: item.id, offset: item.offset });
    kept++;
    if (stop(item.entry, kept)) {
      exhausted = false;
      break;
    }
  }
  const inOrder = entries.filter((item) => item !== undefined).reverse();
  problems.sort((a, b) => a.offset - b.offset);
  return { entries: inOrder, problems, exhausted };
}

/** The last `n` entries, reading backwards from the end of the file. */
export async function readTail<T>(file: string, ctx: ReaderContext<T>, n: number): Promise<Collected<T>> {
  if (n <= 0) return { entries: [], problems: [] };
  return collectBackward(file, ctx, (_entry, count) => count >= n);
}

/**
 * The latest compaction entry and all entries after it, reading backwards. Undefined when the
 * session has no compaction (the caller then reads it all, forwards, with line numbers).
 */
export async function readFromCompaction<T>(file: string, ctx: ReaderContext<T>): Promise<Collected<T> | undefined> {
  const isCompaction = (entry: T): boolean =>
    typeof entry === 'object' && entry !== null && (entry as { type?: unknown }).type === 'compaction';
  const result = await collectBackward(file, ctx, isCompaction);
  return result.exhausted ? undefined : result;
}
