/**
 * The safe whole-file rewrite of a session, shared by repair (src/file/rewrite/repair.ts) and merge
 * (src/file/rewrite/merge.ts), the only two code paths that replace a session file. Both build the new
 * file and a recovery file beside the session, then replace the session the same way, so that the
 * guarantees (and the syscalls the crash rows A7 and G9 kill at) are those of one piece of code:
 *
 * - the new file is a temp file in the session's folder (0600, created exclusively on first use),
 *   fsynced, renamed over the session, and the folder is fsynced;
 * - the recovery file (`<id>.jsonl.recovered-<time>`) holds bytes that are not in the new file (and,
 *   rarely, the start of a last line whose writer finished it late: carried over whole, see carryOver);
 * - the session is read to its end synchronously, again and again until its size holds still, and
 *   the rename follows in the same synchronous step: no flush of this process can land unseen;
 * - another process's append that lands on the old file after that step is carried over onto the
 *   new file right after the rename.
 *
 * What each rewrite keeps and drops, and its lock, belong to its own module.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { OutputFile, readRange } from '../fs/atomic.js';
import { fsyncDir, writeAllSync } from '../fs/files.js';
import { decodeLine } from '../../format/codec.js';
import type { Header } from '../../format/schema.js';
import type { ReaderContext } from '../session/reader.js';
import { fileStamp } from '../session/trash.js';

const read = promisify(fs.read);

/** Reads are done in pieces of this size. */
export const CHUNK = 256 * 1024;

export { OutputFile, readRange } from '../fs/atomic.js';
/** The session is re-read while it keeps growing; past this many rounds, another process is too busy. */
const MAX_ROUNDS = 50;
/** How long a last line without its newline may still be another writer's write in progress. */
const IN_PROGRESS_WAIT_MS = 50;
const IN_PROGRESS_POLL_MS = 2;

/**
 * Reads ranges of an open file that mostly come in file order (a merge copying records), through a
 * window of {@link CHUNK} bytes: one `pread` per window instead of one per line (a merge of 10,000
 * records made 10,000 of them).
 */
export class RangeReader {
  readonly #fd: number;
  readonly #file: string;
  #window: Buffer = Buffer.alloc(0);
  #start = 0;

  constructor(fd: number, file: string) {
    this.#fd = fd;
    this.#file = file;
  }

  /** Bytes [from, from + length) (fewer at the end of the file). */
  read(from: number, length: number): Buffer {
    const offset = from - this.#start;
    if (offset < 0 || offset + length > this.#window.length) {
      // A range larger than the window is read on its own, and not kept.
      if (length > CHUNK) return readRange(this.#fd, this.#file, from, length);
      this.#window = readRange(this.#fd, this.#file, from, CHUNK);
      this.#start = from;
      return this.#window.subarray(0, Math.min(length, this.#window.length));
    }
    return this.#window.subarray(offset, offset + length);
  }
}

/**
 * Reads an open file asynchronously from `position` up to `size` (the size it had when the rewrite
 * began), handing each piece to `push`. Returns the position reached.
 * @throws ERR_IO
 */
export async function readUpTo(fd: number, file: string, position: number, size: number, push: (piece: Buffer) => void): Promise<number> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  while (position < size) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await read(fd, buffer, 0, Math.min(CHUNK, size - position), position));
    } catch (err) {
      throw ioError('read', file, err);
    }
    if (bytesRead === 0) break;
    position += bytesRead;
    push(buffer.subarray(0, bytesRead));
  }
  return position;
}

/**
 * Reads an open file synchronously from `position` to its current end, handing each piece to
 * `push`. Synchronous so that no flush of this process can land between the last read and the
 * rename that follows. Returns the position reached.
 * @throws ERR_IO
 */
export function readToEndSync(fd: number, file: string, position: number, push: (piece: Buffer) => void): number {
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    let bytesRead: number;
    try {
      bytesRead = fs.readSync(fd, buffer, 0, CHUNK, position);
    } catch (err) {
      throw ioError('read', file, err);
    }
    if (bytesRead === 0) return position;
    position += bytesRead;
    push(buffer.subarray(0, bytesRead));
  }
}

/** Which rewrite is running, for its error messages: `{ done: 'repaired', retry: 'run repair again' }`. */
export interface RewriteJob {
  /** Past participle: "… while it was <done>". */
  readonly done: string;
  /** The next step: "…; <retry>." */
  readonly retry: string;
}

/**
 * Reads the rest of the session synchronously from `position` (see {@link readToEndSync}), again
 * until the file's size holds still, checking each time that it is still the file that was opened
 * (`stat`). Returns the final position. The caller's rename must follow in the same synchronous step.
 * @throws ERR_SESSION_NOT_FOUND (deleted meanwhile), ERR_LOCKED (replaced meanwhile, or kept
 *   growing for {@link MAX_ROUNDS} rounds), ERR_IO
 */
export function readUntilStill(fd: number, file: string, stat: fs.Stats, position: number, job: RewriteJob, push: (piece: Buffer) => void): number {
  const waitUntil = Date.now() + IN_PROGRESS_WAIT_MS;
  for (let round = 0; ; round++) {
    position = readToEndSync(fd, file, position, push);
    if (!sessionGrew(file, stat, position, job)) {
      // Ending inside a line: another writer's write still becoming visible (a large write shows
      // a page at a time), or a torn tail left by a crash. Taken for torn only once it has held
      // still for a moment; cut short, the line would be moved aside and its entry put back by
      // its writer (reliability.md, "another process runs repair").
      if (endsAtLineBoundary(fd, file, position) || Date.now() >= waitUntil) return position;
      // Wait for the size to change (fstat only: no read until there is something to read).
      while (Date.now() < waitUntil && fs.fstatSync(fd).size === position) sleepSync(IN_PROGRESS_POLL_MS);
      continue;
    }
    if (round >= MAX_ROUNDS) {
      throw new SessionStoreError('ERR_LOCKED', `${file} kept growing while it was ${job.done}; ${job.retry} when its writer is idle.`, { path: file });
    }
  }
}

/** Whether the byte before `position` is a newline (or `position` is 0). */
function endsAtLineBoundary(fd: number, file: string, position: number): boolean {
  return position === 0 || readRange(fd, file, position - 1, 1)[0] === 0x0a;
}

/** Sleeps without returning to the event loop: the rewrite's last read and its rename are one synchronous step. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True when the session file grew past `position`; throws when it was replaced or deleted meanwhile. */
function sessionGrew(file: string, stat: fs.Stats, position: number, job: RewriteJob): boolean {
  let now: fs.Stats;
  try {
    now = fs.statSync(file);
  } catch (err) {
    throw errnoOf(err) === 'ENOENT'
      ? new SessionStoreError('ERR_SESSION_NOT_FOUND', `${file} was deleted while it was ${job.done}.`, { path: file, cause: err })
      : ioError('stat', file, err);
  }
  // Another inode: a sync tool or editor replaced the file; renaming over it would discard that.
  if (now.ino !== stat.ino || now.dev !== stat.dev) {
    throw new SessionStoreError('ERR_LOCKED', `${file} was replaced by another program while it was ${job.done}; ${job.retry}.`, { path: file });
  }
  return now.size > position;
}


/** A recovery file name beside the session, not taken yet: it does not end in `.jsonl`, so it is never taken for a session. */
export function recoveryPathFor(file: string, now: number): string {
  const base = `${file}.recovered-${fileStamp(now)}`;
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    if (!fs.existsSync(candidate)) return candidate;
  }
}

/**
 * One rewrite of a session file: its temp file and its recovery file, the replacement, and the
 * clean-up. Make one per rewrite, fill `temp` and `recovery`, call `replace()` at the end of the
 * synchronous step that read the session to its end, and `discard()` in a `finally`.
 */
export class SessionRewrite {
  readonly file: string;
  readonly dir: string;
  /** The new session file, built beside the old one (same file system: the rename is atomic). */
  readonly temp: OutputFile;
  /** Bytes that are not in the new file, byte for byte. */
  readonly recovery: OutputFile;
  #renamed = false;

  /** `dir` is the session's folder, fsynced after the rename; `now` names the recovery file. */
  constructor(file: string, dir: string, now: number) {
    this.file = file;
    this.dir = dir;
    this.temp = OutputFile.beside(file);
    this.recovery = new OutputFile(recoveryPathFor(file, now));
  }

  /**
   * Replaces the session with the temp file: fsync of both outputs, `beforeRename()` (the last
   * checks: the rewrite lock's fence, unchanged copies; it throws to stop), rename, the old file's
   * bytes past `position` (another process's append that landed after the last read) carried over,
   * then fsync of the folder. `tornFrom`: where the last line begins when the rewrite moved it
   * aside as torn (see {@link carryOver}). Returns the new file's size.
   * @throws whatever `beforeRename` throws (nothing replaced then), ERR_IO
   */
  async replace(oldFd: number, position: number, beforeRename: () => void, tornFrom?: number): Promise<number> {
    this.temp.sync();
    this.recovery.sync();
    beforeRename();
    this.temp.renameTo(this.file);
    this.#renamed = true;
    // The old file stays open: an append to it after the last read is still readable here. Carried
    // over at once, before the folder's fsync (milliseconds in which other processes append to the
    // new file, and the carried bytes would land after theirs).
    const grown = fs.fstatSync(oldFd).size;
    if (grown > position) carryOver(oldFd, tornFrom ?? position, position, grown, this.file);
    await fsyncDir(this.dir);
    return fs.statSync(this.file).size;
  }

  /** Closes both outputs; before the rename, also deletes them (the session is untouched then). */
  discard(): void {
    this.temp.close();
    this.recovery.close();
    if (!this.#renamed) {
      this.temp.remove();
      this.recovery.remove();
    }
  }
}

/**
 * Appends the complete lines in bytes [from, to) of the old session file to the new one (which
 * ends with a newline), and fsyncs it. A last line without its newline is another process's write
 * still in progress (a write larger than a page becomes visible a page at a time): it is left, and
 * that writer, finding its entry missing from the new file, appends it again (src/file/session/recent.ts).
 * Carried half, it would be a torn line that the next rewrite moves aside, and the entry lost.
 *
 * `tornFrom` is where a last line the rewrite took for torn begins (before `position`, where its
 * last read ended). Such a line may only have been slow: its writer finished it after the rewrite
 * stopped waiting (50 ms), with more lines after it. Then it is carried over whole — its first part
 * also stays in the recovery file, a copy — and not its second part alone, a fragment that lost the
 * entry and hid it from its writer's check (the lines after it were there). A line that still does
 * not parse was torn indeed: it stays out.
 */
function carryOver(oldFd: number, tornFrom: number, position: number, to: number, file: string): void {
  const read = readRange(oldFd, file, tornFrom, to - tornFrom);
  let start = 0;
  if (tornFrom < position) {
    const end = read.indexOf(0x0a, position - tornFrom);
    if (end === -1) return;
    // Line 1 is the header, which the rewrite wrote itself.
    if (tornFrom === 0 || !decodeLine(read.subarray(0, end)).ok) start = end + 1;
  }
  const bytes = read.subarray(start, read.lastIndexOf(0x0a) + 1);
  if (bytes.length === 0) return;
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW);
  try {
    writeAllSync(fd, bytes);
    fs.fsyncSync(fd);
  } catch (err) {
    throw ioError('append to', file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a repair and a merge are given: the session, its file, and how to read and head it. */
export interface RewriteBase {
  readonly id: string;
  readonly file: string;
  readonly reader: ReaderContext<unknown>;
  /** A fresh header for the session, used when no usable one is found; gets the first record's `ts` when known. */
  readonly header: (createdAt: string | undefined) => Header;
  readonly now: number;
  /** Called right before the rename that replaces the file; throws if the rewrite lock was lost. */
  readonly assertHeld?: () => void;
}
