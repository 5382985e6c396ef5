/**
 * Repairing a session: the only code path that rewrites a session file. Lines the reader skips
 * (torn tail, invalid UTF-8 or JSON, schema failures, oversize, duplicate ids, a bad header) are
 * removed; every removed byte is kept in a recovery file beside the session. The new file is
 * built in a temp file (0600), fsynced, renamed over the old one, and the folder is fsynced.
 *
 * Concurrent appends: in-process writers are flushed by the caller first, and the final
 * "has it grown?" check, the last writes and the rename run in one synchronous step, so no flush
 * of this process can land in between. Another process's append that lands on the old file
 * between that check and the rename is copied onto the new file right after the rename.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeLine, encodeLine, type ProblemKind } from '../format/codec.js';
import { LineSplitter, type RawLine } from '../format/lines.js';
import { readHeader } from '../format/migrate.js';
import type { Header } from '../format/schema.js';
import { errnoOf, ioError, SessionStoreError } from '../errors.js';
import { closeQuietly, FILE_MODE, fsyncDir, openForRead, writeAllSync } from '../fs/files.js';
import { tempPathFor } from '../fs/temps.js';
import { headerProblem, interpret, type ReaderContext } from './reader.js';
import { fileStamp } from './trash.js';

const read = promisify(fs.read);

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

/** What repair needs besides the file. */
export interface RepairPlan {
  readonly id: string;
  readonly file: string;
  readonly reader: ReaderContext<unknown>;
  /** A fresh header for the session, used when line 1 is unusable; gets the first entry's `ts` when known. */
  readonly header: (createdAt: string | undefined) => Header;
  readonly now: number;
  /** Called right before the rename that replaces the file; throws if the rewrite lock was lost. */
  readonly assertHeld?: () => void;
}

const CHUNK = 256 * 1024;
/** Kept lines are written to the temp file in batches of about this size. */
const BATCH_BYTES = 1024 * 1024;
/** The file is re-read while it keeps growing; past this many rounds, another process is too busy. */
const MAX_ROUNDS = 50;
const NEWLINE = Buffer.from('\n');

/** An output file that is created (0600, exclusively) on first use and written in batches. */
class LazyFile {
  readonly file: string;
  #fd: number | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes added so far. */
  bytes = 0;

  constructor(file: string) {
    this.file = file;
  }

  get opened(): boolean {
    return this.#fd !== undefined;
  }

  open(): number {
    if (this.#fd === undefined) {
      const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
      try {
        this.#fd = fs.openSync(this.file, flags, FILE_MODE);
        // open()'s mode is filtered by the umask.
        fs.fchmodSync(this.#fd, FILE_MODE);
      } catch (err) {
        throw ioError('create', this.file, err);
      }
    }
    return this.#fd;
  }

  add(piece: Buffer): void {
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
    this.bytes += piece.length;
    if (this.#pendingBytes >= BATCH_BYTES) this.drain();
  }

  drain(): void {
    if (this.#pendingBytes === 0) return;
    const fd = this.open();
    try {
      writeAllSync(fd, Buffer.concat(this.#pending, this.#pendingBytes));
    } catch (err) {
      throw ioError('write', this.file, err);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  sync(): void {
    this.drain();
    if (this.#fd === undefined) return;
    try {
      fs.fsyncSync(this.#fd);
    } catch (err) {
      throw ioError('fsync', this.file, err);
    }
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  remove(): void {
    this.close();
    fs.rmSync(this.file, { force: true });
  }
}

/** A recovery file name beside the session that is never taken for a session: it does not end in `.jsonl`. */
function recoveryPath(file: string, now: number): string {
  const base = `${file}.recovered-${fileStamp(now)}`;
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    if (!fs.existsSync(candidate)) return candidate;
  }
}

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
  const dir = path.dirname(file);
  const temp = new LazyFile(tempPathFor(file));
  const recovery = new LazyFile(recoveryPath(file, plan.now));
  const removed: RemovedLine[] = [];
  const seen = new Set<string>();
  const splitter = new LineSplitter(0, reader.maxLineBytes);
  let position = 0;
  let lineNo = 1;
  let entries = 0;
  let headerRewritten = false;
  let renamed = false;

  /** Copies old bytes [from, to) into `out` (oversize lines, and the clean prefix). */
  const copyRange = (out: LazyFile, from: number, to: number): void => {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, to - from)));
    for (let at = from; at < to; ) {
      const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, to - at), at);
      if (n === 0) break;
      out.add(Buffer.from(buffer.subarray(0, n)));
      at += n;
    }
  };

  const remove = (raw: RawLine, line: number, torn: boolean, kind: RemovedLine['kind'], message: string): void => {
    if (!temp.opened) {
      // Every line before the first removed one is kept verbatim: copy them in one go.
      temp.open();
      copyRange(temp, 0, raw.offset);
    }
    removed.push({ line, offset: raw.offset, length: raw.length, kind, message });
    if (raw.oversize) copyRange(recovery, raw.offset, raw.offset + raw.length);
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

  /** Reads asynchronously up to the size the file had when repair began. */
  const readMore = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (position < stat.size) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await read(fd, buffer, 0, Math.min(CHUNK, stat.size - position), position));
      } catch (err) {
        throw ioError('read', file, err);
      }
      if (bytesRead === 0) return;
      position += bytesRead;
      for (const raw of splitter.push(buffer.subarray(0, bytesRead))) handle(raw, false);
    }
  };

  /** The same, synchronously: used for the last bytes, so that no flush of this process can land unseen. */
  const readRestSync = (): void => {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      let bytesRead: number;
      try {
        bytesRead = fs.readSync(fd, buffer, 0, CHUNK, position);
      } catch (err) {
        throw ioError('read', file, err);
      }
      if (bytesRead === 0) return;
      position += bytesRead;
      for (const raw of splitter.push(buffer.subarray(0, bytesRead))) handle(raw, false);
    }
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
    await readMore();
    for (let round = 0; ; round++) {
      readRestSync();
      if (!fileChanged(file, stat, position)) break;
      if (round >= MAX_ROUNDS) {
        throw new SessionStoreError('ERR_LOCKED', `${file} kept growing while it was repaired; run repair again when its writer is idle.`, { path: file });
      }
    }
    const tail = splitter.end();
    // The last bytes without a newline are a torn line: interpret() reports them as such.
    if (tail !== undefined) handle(tail, true);
    if (!temp.opened) return report(false, position);
    temp.sync();
    recovery.sync();
    plan.assertHeld?.();
    try {
      fs.renameSync(temp.file, file);
    } catch (err) {
      throw ioError('replace', file, err);
    }
    renamed = true;
    await fsyncDir(dir);
    // Another process may have appended to the old file after the size check: carry those bytes over.
    const grown = fs.fstatSync(fd).size;
    if (grown > position) carryOver(fd, position, grown, file);
    return report(true, fs.statSync(file).size);
  } finally {
    temp.close();
    recovery.close();
    if (!renamed) {
      temp.remove();
      recovery.remove();
    }
    await closeQuietly(fd);
  }
}

/** True when the file grew past `position`; throws when it was replaced or deleted. */
function fileChanged(file: string, stat: fs.Stats, position: number): boolean {
  let now: fs.Stats;
  try {
    now = fs.statSync(file);
  } catch (err) {
    throw errnoOf(err) === 'ENOENT'
      ? new SessionStoreError('ERR_SESSION_NOT_FOUND', `${file} was deleted while it was repaired.`, { path: file, cause: err })
      : ioError('stat', file, err);
  }
  if (now.ino !== stat.ino || now.dev !== stat.dev) {
    throw new SessionStoreError('ERR_LOCKED', `${file} was replaced by another program while it was repaired; run repair again.`, { path: file });
  }
  return now.size > position;
}

/** Appends old-file bytes [from, to) to the new file, which ends with a newline. */
function carryOver(oldFd: number, from: number, to: number, file: string): void {
  const buffer = Buffer.allocUnsafe(to - from);
  const n = fs.readSync(oldFd, buffer, 0, buffer.length, from);
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW);
  try {
    writeAllSync(fd, buffer.subarray(0, n));
    fs.fsyncSync(fd);
  } catch (err) {
    throw ioError('append to', file, err);
  } finally {
    fs.closeSync(fd);
  }
}
