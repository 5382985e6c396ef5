/**
 * Repairing a session: one of the two code paths that rewrite a session file (the other is merge).
 * Lines the reader skips (torn tail, invalid UTF-8 or JSON, schema failures, oversize, duplicate
 * ids, a bad header) are removed; every removed byte is kept in a recovery file beside the session.
 * The new file is built in a temp file (0600), fsynced, renamed over the old one, and the folder is
 * fsynced: the steps of src/file/rewrite/rewrite.ts, shared with merge so both give the same guarantees.
 *
 * Concurrent appends: in-process writers are flushed by the caller first, and the final
 * "has it grown?" check, the last writes and the rename run in one synchronous step, so no flush
 * of this process can land in between. Another process's append that lands on the old file
 * between that check and the rename is copied onto the new file right after the rename.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeLine, encodeLine, type ProblemKind } from '../../format/codec.js';
import { LineSplitter, type RawLine } from '../../format/lines.js';
import { readHeader } from '../../format/migrate.js';
import { SessionStoreError } from '../../core/errors.js';
import { closeQuietly, openForRead } from '../fs/files.js';
import { headerProblem, interpret } from '../session/reader.js';
import { CHUNK, readUntilStill, readUpTo, type RewriteBase, type RewriteJob, SessionRewrite } from './rewrite.js';

/** A line that repair removed: where it was and why, never its content. */
export interface RemovedLine {
  /** Line number in the old file, from 1. */
  readonly line: number;
  /** Byte offset in the old file. */
  readonly offset: number;
  /** Length in bytes, without the newline. */
  readonly length: number;
  readonly kind: ProblemKind | 'header-id-mismatch';
  readonly message: string;
}

/** What `repair()` did. */
export interface RepairReport {
  readonly id: string;
  readonly file: string;
  /** False when the session had nothing to repair; the file was not touched. */
  readonly repaired: boolean;
  readonly removed: readonly RemovedLine[];
  /** Bytes moved to the recovery file. */
  readonly removedBytes: number;
  /** Line 1 was replaced by a fresh header (the old line is in the recovery file). */
  readonly headerRewritten: boolean;
  /** Where the removed bytes are, exactly as they were (each removed line keeps its newline, if it had one). */
  readonly recoveryFile: string | undefined;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Entries in the repaired file. */
  readonly entries: number;
}

/** What repair needs: what every rewrite is given. */
export type RepairPlan = RewriteBase;

const NEWLINE = Buffer.from('\n');
/** For the messages of the shared rewrite steps. */
const REPAIR: RewriteJob = { done: 'repaired', retry: 'run repair again' };

/** The `ts` of the first line after the header that has one, for a rebuilt header's `createdAt`. */
function firstTimestamp(fd: number): string | undefined {
  const buffer = Buffer.alloc(CHUNK);
  const bytesRead = fs.readSync(fd, buffer, 0, CHUNK, 0);
  // Complete lines of the first chunk only: enough for a timestamp, bounded whatever the file.
  const lines = buffer.subarray(0, bytesRead).toString('utf8').split('\n').slice(1, -1);
  for (const line of lines) {
    const decoded = decodeLine(Buffer.from(line));
    const ts = decoded.ok ? decoded.value['ts'] : undefined;
    if (typeof ts === 'string') return ts;
  }
  return undefined;
}

/**
 * Rewrites a session without its unreadable lines. See the module comment for the guarantees.
 * @throws ERR_SESSION_NOT_FOUND, ERR_UNSAFE_FILE, ERR_UNSUPPORTED_VERSION (a newer format is never
 *   rewritten), ERR_LOCKED (the file was replaced, or kept growing, while it was repaired: try
 *   again), ERR_IO
 */
export async function repairSession(plan: RepairPlan): Promise<RepairReport> {
  const { file, reader } = plan;
  const { fd, stat } = await openForRead(file);
  const rewrite = new SessionRewrite(file, path.dirname(file), plan.now);
  const { temp, recovery } = rewrite;
  const removed: RemovedLine[] = [];
  const seen = new Set<string>();
  const splitter = new LineSplitter(0, reader.maxLineBytes);
  let position = 0;
  let lineNo = 1;
  let entries = 0;
  let headerRewritten = false;

  const remove = (raw: RawLine, line: number, torn: boolean, kind: RemovedLine['kind'], message: string): void => {
    if (!temp.opened) {
      // Every line before the first removed one is kept verbatim: copy them in one go.
      temp.open();
      temp.addRange(fd, file, 0, raw.offset);
    }
    removed.push({ line, offset: raw.offset, length: raw.length, kind, message });
    if (raw.oversize) recovery.addRange(fd, file, raw.offset, raw.length);
    else recovery.add(Buffer.from(raw.bytes));
    if (!torn) recovery.add(NEWLINE);
  };

  const keep = (raw: RawLine): void => {
    if (temp.opened) temp.add(Buffer.concat([raw.bytes, NEWLINE]));
  };

  /** Line 1: kept when it is this session's header, else replaced (the old line goes to recovery). */
  const handleHeader = (raw: RawLine, torn: boolean): void => {
    const decoded = raw.oversize ? undefined : decodeLine(raw.bytes, true);
    const result = decoded?.ok === true ? readHeader(decoded.value) : undefined;
    if (result?.ok === true && result.newer) {
      throw new SessionStoreError('ERR_UNSUPPORTED_VERSION', `${file} was written by a newer sessionlog; repair it with that version.`, { path: file });
    }
    const problem = headerProblem({ ...raw, line: 1, torn });
    if (problem === undefined && result?.ok === true && result.header.id === plan.id) return keep(raw);
    // No header at all, but an entry (a file written by hand or by another tool): a header goes
    // before it and the entry stays.
    const asEntry = result?.ok === true || raw.length === 0 ? undefined : interpret({ ...raw, line: 1, torn }, plan.reader, seen);
    if (asEntry?.kind === 'entry') {
      temp.open();
      const ts = (asEntry.entry as { ts?: unknown }).ts;
      temp.add(Buffer.from(encodeLine(plan.header(typeof ts === 'string' ? ts : firstTimestamp(fd)))));
      headerRewritten = true;
      entries++;
      return keep(raw);
    }
    // A torn but readable header (or one naming another session) keeps its fields.
    const header = result?.ok === true ? { ...result.header, id: plan.id } : plan.header(firstTimestamp(fd));
    const why = problem ?? { kind: 'header-id-mismatch' as const, message: "the header names another session (a copied file?); rewritten with this file's id" };
    remove(raw, 1, torn, why.kind, why.message);
    temp.add(Buffer.from(encodeLine(header)));
    headerRewritten = true;
  };

  const handle = (raw: RawLine, torn: boolean): void => {
    const line = lineNo++;
    if (line === 1) return handleHeader(raw, torn);
    const item = interpret({ ...raw, line, torn }, reader, seen);
    if (item.kind === 'problem') return remove(raw, line, torn, item.problem.kind, item.problem.message);
    if (item.kind === 'entry') entries++;
    keep(raw);
  };

  const handleAll = (piece: Buffer): void => {
    for (const raw of splitter.push(piece)) handle(raw, false);
  };

  const report = (repaired: boolean, after: number): RepairReport => ({
    id: plan.id,
    file,
    repaired,
    removed,
    removedBytes: recovery.bytes,
    headerRewritten,
    recoveryFile: repaired && recovery.bytes > 0 ? recovery.file : undefined,
    bytesBefore: position,
    bytesAfter: after,
    entries,
  });

  try {
    // The bulk of the file asynchronously; then, from reading the last bytes to the rename, all
    // synchronous: no flush of this process can land in between. Another process may still append:
    // the file is read again until its size holds still.
    position = await readUpTo(fd, file, position, stat.size, handleAll);
    position = readUntilStill(fd, file, stat, position, REPAIR, handleAll);
    const tail = splitter.end();
    // The last bytes without a newline are a torn line: interpret() reports them as such.
    if (tail !== undefined) handle(tail, true);
    if (lineNo === 1) {
      // An empty file: a creation cut short before its header was written.
      temp.open();
      temp.add(Buffer.from(encodeLine(plan.header(undefined))));
      headerRewritten = true;
    }
    if (!temp.opened) return report(false, position);
    return report(true, await rewrite.replace(fd, position, () => plan.assertHeld?.(), tail?.offset));
  } finally {
    rewrite.discard();
    await closeQuietly(fd);
  }
}
